// Runs one of the project's programs as a user would, for the end-to-end suites: exit code and
// both output streams. Header-only: each suite is one translation unit.
#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace sq::testing {

struct ProgramResult {
    int exitCode = -1; // -1: crashed or killed after the timeout
    QString out;
    QString err;
};

struct RunOptions {
    QString workDir;
    bool headless = false; // no display in the environment: the program must cope by itself
    int timeoutMs = 600000;
};

inline ProgramResult runProgram(const QString& program, const QStringList& args, const RunOptions& options = {})
{
    QProcess p;
    if (!options.workDir.isEmpty())
        p.setWorkingDirectory(options.workDir);
    if (options.headless) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove("QT_QPA_PLATFORM");
        env.remove("DISPLAY");
        p.setProcessEnvironment(env);
    }
    p.start(program, args);
    if (!p.waitForFinished(options.timeoutMs))
        p.kill();
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

#ifdef SQ_TRAIN_PATH
inline ProgramResult runTrainer(const QStringList& args, const RunOptions& options = {})
{
    return runProgram(QStringLiteral(SQ_TRAIN_PATH), args, options);
}
#endif

} // namespace sq::testing

#include "ui/session_io.h"

#include "core/error.h"
#include "core/io/session_file.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>

namespace sq::ui {

void saveSessionFile(const QString& path, const TrainerState& state)
{
    const std::string bytes = encodeSessionFile(state);
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        throw Error(path.toStdString() + ": cannot write the session file: " + file.errorString().toStdString());
    if (file.write(bytes.data(), static_cast<qint64>(bytes.size())) != static_cast<qint64>(bytes.size())
        || !file.commit())
        throw Error(path.toStdString() + ": cannot write the session file: " + file.errorString().toStdString());
}

TrainerState loadSessionFile(const QString& path) { return readSessionFile(path.toStdString()); }

QString recoveryFilePath()
{
    const QString folder = QSettings()
                               .value(QStringLiteral("recovery/folder"),
                                      QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
                               .toString();
    return QDir(folder).filePath(QStringLiteral("recovery.sqs"));
}

} // namespace sq::ui

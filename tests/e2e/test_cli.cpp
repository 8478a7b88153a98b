// sq-train as a user runs it: help, version, refusals with a clear message and exit code, and a
// short run that writes its run folder.
#include "support/idx_fixture.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Result {
    int exitCode = -1;
    QString out;
    QString err;
};

Result runTrainer(const QStringList& args)
{
    QProcess p;
    p.start(QStringLiteral(SQ_TRAIN_PATH), args);
    if (!p.waitForFinished(300000))
        p.kill();
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT

private slots:
    void helpAndVersion();
    void refusals_data();
    void refusals();
    void missingDataset();
    void shortRunWritesRunFolder();
};

void TestCli::helpAndVersion()
{
    const Result help = runTrainer({"--help"});
    QCOMPARE(help.exitCode, 0);
    for (const char* flag : {"--dataset", "--model", "--arch", "--mode", "--lambda", "--gamma", "--p", "--epochs",
                             "--commit-epochs", "--batch", "--lr", "--optimizer", "--seed", "--threads",
                             "--train-limit", "--test-limit", "--out"})
        QVERIFY2(help.out.contains(QString::fromLatin1(flag) + " "), flag);
    const Result version = runTrainer({"--version"});
    QCOMPARE(version.exitCode, 0);
    QVERIFY(version.out.startsWith("sq-train "));
}

void TestCli::refusals_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::addRow("negative lambda") << QStringList{"--lambda", "-1"} << "--lambda: must be a finite number >= 0";
    QTest::addRow("lr of zero") << QStringList{"--lr", "0"} << "--lr: must be > 0";
    QTest::addRow("batch of zero") << QStringList{"--batch", "0"} << "--batch: must be in [1, 65536]";
    QTest::addRow("lr not a number") << QStringList{"--lr", "fast"} << "--lr: expected a number";
    QTest::addRow("unknown mode") << QStringList{"--mode", "octal"} << "--mode: unknown mode 'octal'";
    QTest::addRow("unknown optimizer") << QStringList{"--optimizer", "lion"} << "--optimizer: unknown optimizer";
    QTest::addRow("unknown flag") << QStringList{"--colour", "red"} << "--colour: unknown option";
    QTest::addRow("missing value") << QStringList{"--epochs"} << "--epochs: needs a value";
    QTest::addRow("p of 3") << QStringList{"--p", "3"} << "--p: must be in [1, 2]";
    QTest::addRow("too many commit epochs") << QStringList{"--epochs", "2", "--commit-epochs", "3"}
                                            << "--commit-epochs: must be in [0, 2]";
    QTest::addRow("infinite gamma") << QStringList{"--gamma=inf"} << "--gamma: expected a number";
}

void TestCli::refusals()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Result r = runTrainer(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
}

void TestCli::missingDataset()
{
    QTemporaryDir dir;
    const QString missing = dir.filePath("no-such-folder");
    const Result r = runTrainer({"--dataset", missing, "--out", dir.filePath("out")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(missing), qPrintable(r.err));
    QVERIFY(!QDir(dir.filePath("out")).exists()); // nothing written

    QVERIFY(sq::testing::writeIdxDataset(dir.path(), 64, 16));
    const Result model = runTrainer({"--dataset", dir.path(), "--model", "alexnet", "--out", dir.filePath("out")});
    QCOMPARE(model.exitCode, 1);
    QVERIFY2(model.err.contains("--model: unknown model 'alexnet'"), qPrintable(model.err));
    QVERIFY(!QDir(dir.filePath("out")).exists());
}

void TestCli::shortRunWritesRunFolder()
{
    QTemporaryDir dir;
    QVERIFY(sq::testing::writeIdxDataset(dir.path(), 512, 128));
    const QString out = dir.filePath("run");
    const Result r = runTrainer({"--dataset", dir.path(), "--arch", "dense 32, bn, relu, dense 10", "--mode", "sq",
                                 "--epochs", "3", "--commit-epochs", "1", "--batch", "32", "--lr", "0.003",
                                 "--threads", "1", "--seed", "4", "--out", out});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    // One line per epoch with losses, both accuracies and the decisions.
    const QStringList epochLines = r.out.split('\n').filter(QRegularExpression("^epoch +\\d+/3 "));
    QCOMPARE(epochLines.size(), 3);
    QVERIFY(epochLines[2].contains("commit"));
    QVERIFY(epochLines[0].contains("test float") && epochLines[0].contains("quant"));
    QVERIFY(epochLines[0].contains("img/s"));

    QFile json(out + "/summary.json");
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject s = QJsonDocument::fromJson(json.readAll()).object();
    QCOMPARE(s["config"].toObject()["seed"].toInt(), 4);
    QCOMPARE(s["epochs_completed"].toInt(), 3);
    const QJsonArray layers = s["layers"].toArray();
    QCOMPARE(layers.size(), 2);
    for (const auto& l : layers) {
        const QString decision = l.toObject()["decision"].toString();
        QVERIFY(decision == "binary" || decision == "ternary");
        QVERIFY(l.toObject()["alpha"].toDouble() > 0.0);
    }
    QVERIFY(s["final"].toObject()["test_accuracy_quantized"].toDouble() > 0.6);
    QVERIFY(s["final"].toObject()["model_bits"].toDouble() > 0);
    QVERIFY(QFile::exists(out + "/history.csv"));

    // Same seed, same numbers: the CLI is deterministic with one thread.
    const Result again = runTrainer({"--dataset", dir.path(), "--arch", "dense 32, bn, relu, dense 10", "--mode",
                                     "sq", "--epochs", "3", "--commit-epochs", "1", "--batch", "32", "--lr", "0.003",
                                     "--threads", "1", "--seed", "4", "--out", dir.filePath("run2")});
    QCOMPARE(again.exitCode, 0);
    QFile a(out + "/history.csv");
    QFile b(dir.filePath("run2") + "/history.csv");
    QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
    // Columns up to the throughput are deterministic; seconds and images/s are not.
    auto stable = [](QByteArray csv) {
        QStringList rows;
        for (const QByteArray& line : csv.split('\n')) {
            QStringList cols = QString::fromUtf8(line).split(',');
            if (cols.size() > 17) {
                cols[3].clear();  // seconds
                cols[17].clear(); // images_per_second
            }
            rows << cols.join(',');
        }
        return rows;
    };
    QCOMPARE(stable(a.readAll()), stable(b.readAll()));
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"

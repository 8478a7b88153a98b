// sq-train as a user runs it: help, version, refusals with a clear message and exit code, and a
// short run that writes its run folder.
#include "core/data/dataset.h"
#include "support/fashion_mnist.h"
#include "support/idx_fixture.h"
#include "support/run_program.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>


using Result = sq::testing::ProgramResult;
using sq::testing::runTrainer;

class TestCli : public QObject {
    Q_OBJECT

private slots:
    void helpAndVersion();
    void refusals_data();
    void refusals();
    void missingDataset();
    void shortRunWritesRunFolder();
    void plotsRenderHeadless();
    void layerBitsMustMatchTheModel();
    void uniqAndCpqRuns_data();
    void uniqAndCpqRuns();
};

void TestCli::helpAndVersion()
{
    const Result help = runTrainer({"--help"});
    QCOMPARE(help.exitCode, 0);
    for (const char* flag : {"--dataset", "--model", "--arch", "--mode", "--lambda", "--gamma", "--p", "--epochs",
                             "--commit-epochs", "--batch", "--lr", "--optimizer", "--seed", "--threads",
                             "--train-limit", "--test-limit", "--out", "--bits", "--layer-bits", "--max-bits",
                             "--drop-p", "--mu"})
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
    QTest::addRow("zero bits") << QStringList{"--mode", "uniq", "--bits", "0"} << "--bits: must be in [1, 8], got 0";
    QTest::addRow("nine bits") << QStringList{"--mode", "uniq", "--bits", "9"} << "--bits: must be in [1, 8], got 9";
    QTest::addRow("layer bits of nine") << QStringList{"--layer-bits", "2,9,2"} << "--layer-bits: must be in [1, 8]";
    QTest::addRow("layer bits not numbers") << QStringList{"--layer-bits", "2,two"}
                                            << "--layer-bits: expected a whole number, got 'two'";
    QTest::addRow("max bits below 2") << QStringList{"--mode", "cpq", "--max-bits", "1"}
                                      << "--max-bits: must be in [2, 8], got 1";
    QTest::addRow("negative mu") << QStringList{"--mode", "cpq", "--mu", "-0.5"}
                                 << "--mu: must be a finite number >= 0";
    QTest::addRow("drop p of 1") << QStringList{"--mode", "cpq", "--drop-p", "1"} << "--drop-p: must be in [0, 1)";
    QTest::addRow("negative drop p") << QStringList{"--drop-p", "-0.1"} << "--drop-p: must be in [0, 1)";
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

void TestCli::plotsRenderHeadless()
{
    QTemporaryDir dir;
    QVERIFY(sq::testing::writeIdxDataset(dir.path(), 256, 64));
    const QString plots = dir.filePath("figures");
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("QT_QPA_PLATFORM"); // sq-train must choose the offscreen platform itself
    env.remove("DISPLAY");
    p.setProcessEnvironment(env);
    p.start(QStringLiteral(SQ_TRAIN_PATH),
            {"--dataset", dir.path(), "--arch", "dense 16, relu, dense 10", "--epochs", "2", "--commit-epochs", "1",
             "--batch", "32", "--threads", "1", "--out", dir.filePath("run"), "--plots", plots, "--quiet"});
    QVERIFY(p.waitForFinished(300000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    for (const char* name : {"histograms", "heatmap", "depth", "metrics", "memory", "regularizer"}) {
        for (const char* suffix : {".png", ".pdf", ".svg"}) {
            const QFileInfo file(plots + '/' + name + suffix);
            QVERIFY2(file.exists() && file.size() > 1000, qPrintable(file.filePath()));
        }
    }
    QFile report(plots + "/report.html");
    QVERIFY(report.open(QIODevice::ReadOnly));
    const QByteArray html = report.readAll();
    QVERIFY(html.contains("dense1") && html.contains("histograms.png"));
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

// The number of --layer-bits values is checked against the model once it is built from the data.
void TestCli::layerBitsMustMatchTheModel()
{
    QTemporaryDir dir;
    QVERIFY(sq::testing::writeIdxDataset(dir.path(), 64, 16));
    const Result r = runTrainer({"--dataset", dir.path(), "--arch", "dense 32, relu, dense 10", "--mode", "uniq",
                                 "--layer-bits", "1,2,2", "--out", dir.filePath("out")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("--layer-bits: 3 values for 2 quantized layers (dense1, dense2)"), qPrintable(r.err));
    QVERIFY(!QDir(dir.filePath("out")).exists());
}

void TestCli::uniqAndCpqRuns_data()
{
    QTest::addColumn<QStringList>("mode");
    QTest::addColumn<QString>("method");
    QTest::addRow("uniq b2") << QStringList{"--mode", "uniq", "--bits", "2"} << "UniQ";
    QTest::addRow("cpq") << QStringList{"--mode", "cpq", "--max-bits", "4", "--drop-p", "0.3"} << "CPQ (DropBits)";
}

// A short run on a Fashion-MNIST subset reaches a quantized accuracy far above chance (10%), and
// summary.json names the method with each layer's bits, grid step and levels (and CPQ's keep
// probabilities).
void TestCli::uniqAndCpqRuns()
{
    QFETCH(QStringList, mode);
    QFETCH(QString, method);
    SQ_REQUIRE_FASHION_MNIST(data);
    QTemporaryDir dir;
    const QString out = dir.filePath("run");
    const Result r = runTrainer(QStringList{"--dataset", QString::fromStdString(data), "--train-limit", "3000",
                                            "--test-limit", "1000", "--model", "mlp", "--epochs", "2",
                                            "--commit-epochs", "1", "--threads", "1", "--seed", "1", "--out", out}
                                + mode);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QFile json(out + "/summary.json");
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject s = QJsonDocument::fromJson(json.readAll()).object();
    QCOMPARE(s["method"].toString(), method);
    const double accuracy = s["final"].toObject()["test_accuracy_quantized"].toDouble();
    QVERIFY2(accuracy > 0.6, qPrintable(QString::number(accuracy)));
    const QJsonArray layers = s["layers"].toArray();
    QCOMPARE(layers.size(), 3);
    const bool cpq = method.startsWith("CPQ");
    for (const auto& item : layers) {
        const QJsonObject l = item.toObject();
        const int bits = l["bits"].toInt();
        QVERIFY(l["step"].toDouble() > 0.0);
        if (cpq) {
            QVERIFY(bits >= 2 && bits <= 4);
            QCOMPARE(l["levels"].toArray().size(), (1 << bits) - 1);
            QCOMPARE(l["keep_probability"].toArray().size(), 2);
            QCOMPARE(l["max_bits"].toInt(), 4);
        } else {
            QCOMPARE(bits, 2);
            QCOMPARE(l["decision"].toString(), QStringLiteral("2-bit"));
            QCOMPARE(l["levels"].toArray().size(), 4);
        }
    }
    QCOMPARE(s["config"].toObject()["mode"].toString(), mode[1]);
    QFile csv(out + "/history.csv");
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QString header = QString::fromUtf8(csv.readLine());
    QVERIFY(header.contains("dense1_step"));
    QCOMPARE(header.contains(",mu,"), cpq);
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"

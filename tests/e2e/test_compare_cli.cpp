// sq-train --compare as a user runs it: two real runs trained by sq-train on the tiny IDX
// fixture, compared in a table and rendered headless as the frontier and compare figures; a bad
// run folder is refused with the folder and file named.
#include "support/idx_fixture.h"
#include "support/run_program.h"

#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

using Result = sq::testing::ProgramResult;
using sq::testing::runTrainer;

class TestCompareCli : public QObject {
    Q_OBJECT

private slots:
    void compareTwoRuns();
    void badFoldersAreNamed();
};

void TestCompareCli::compareTwoRuns()
{
    QTemporaryDir dir;
    QVERIFY(sq::testing::writeIdxDataset(dir.path(), 256, 64));
    for (const char* mode : {"sq", "float"}) {
        const Result r = runTrainer({"--dataset", dir.path(), "--arch", "dense 16, relu, dense 10", "--mode", mode,
                                     "--epochs", "2", "--commit-epochs", "1", "--batch", "32", "--threads", "1",
                                     "--out", dir.filePath(mode), "--quiet"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(QFileInfo(dir.filePath(QString(mode) + "/snapshots.jsonl")).size() > 1000);
    }
    const QString plots = dir.filePath("compare-figures");
    sq::testing::RunOptions noDisplay;
    noDisplay.headless = true; // sq-train must choose the offscreen platform itself
    const Result r = runTrainer({"--compare", dir.filePath("sq"), dir.filePath("float"), "--plots", plots}, noDisplay);
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    for (const char* name : {"frontier", "compare"})
        for (const char* suffix : {".png", ".pdf", ".svg"}) {
            const QFileInfo file(plots + '/' + name + suffix);
            QVERIFY2(file.exists() && file.size() > 1000, qPrintable(file.filePath()));
        }
    // The table: one row per run, named by folder and method.
    QVERIFY2(r.out.contains("test quant"), qPrintable(r.out));
    const QStringList lines = r.out.split('\n');
    QVERIFY(std::any_of(lines.begin(), lines.end(), [](const QString& l) { return l.startsWith("sq ") && l.contains("SQ λ 1 γ 0.003"); }));
    QVERIFY(std::any_of(lines.begin(), lines.end(), [](const QString& l) { return l.startsWith("float ") && l.contains("float"); }));
}

void TestCompareCli::badFoldersAreNamed()
{
    QTemporaryDir dir;
    Result r = runTrainer({"--compare", dir.filePath("absent")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(dir.filePath("absent") + ": not a folder"), qPrintable(r.err));

    r = runTrainer({"--compare", dir.path()});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("not a run folder (it has no summary.json)"), qPrintable(r.err));

    QFile summary(dir.filePath("summary.json"));
    QVERIFY(summary.open(QIODevice::WriteOnly));
    summary.write("{\"format\": \"sq-explorer run summary\", \"version\": 1, \"finished\": tru");
    summary.close();
    r = runTrainer({"--compare", dir.path()});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains(dir.filePath("summary.json") + " line 1, column"), qPrintable(r.err));

    r = runTrainer({"--compare"});
    QCOMPARE(r.exitCode, 2);
    QVERIFY2(r.err.contains("--compare: needs one or more run folders"), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestCompareCli)
#include "test_compare_cli.moc"

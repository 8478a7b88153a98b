#include "ui/run_report.h"

#include <QDateTime>
#include <QFileInfo>

namespace sq::ui {

namespace {

QString esc(const QString& text) { return text.toHtmlEscaped(); }
QString esc(const std::string& text) { return QString::fromStdString(text).toHtmlEscaped(); }
QString num(double v, int precision = 4) { return QString::number(v, 'g', precision); }
QString percent(double fraction) { return QString::number(100.0 * fraction, 'f', 2) + QStringLiteral(" %"); }
QString grouped(unsigned long long v) { return QLocale(QLocale::English).toString(v); }

QString row(const QString& key, const QString& value)
{
    return QStringLiteral("<tr><th>%1</th><td>%2</td></tr>\n").arg(esc(key), esc(value));
}

QString settingsTable(const TrainConfig& c)
{
    QString html = QStringLiteral("<h2>Settings</h2>\n<table class=\"kv\">\n");
    html += row(QStringLiteral("dataset"), QFileInfo(QString::fromStdString(c.datasetDir)).fileName());
    html += row(QStringLiteral("model"), QString::fromStdString(c.arch.empty() ? c.model : c.arch));
    html += row(QStringLiteral("mode"), QString::fromStdString(toString(c.sq.mode)));
    html += row(QStringLiteral("lambda"), num(c.lambda) + QStringLiteral(" (") +
                                              QString::fromStdString(toString(c.lambdaSchedule.kind)) + ')');
    html += row(QStringLiteral("gamma"), num(c.gamma));
    html += row(QStringLiteral("p, beta_switch"), QStringLiteral("%1, %2").arg(c.sq.p).arg(num(c.sq.betaSwitch)));
    html += row(QStringLiteral("optimizer"), QString::fromStdString(toString(c.optimizer.kind)) +
                                                 QStringLiteral(", lr %1 (%2)").arg(num(c.learningRate),
                                                     QString::fromStdString(toString(c.lrSchedule.kind))));
    html += row(QStringLiteral("batch, epochs"), QStringLiteral("%1, %2 (%3 commit)")
                                                     .arg(c.batchSize).arg(c.epochs).arg(c.resolvedCommitEpochs()));
    html += row(QStringLiteral("seed"), QString::number(c.seed));
    if (c.trainLimit > 0 || c.testLimit > 0)
        html += row(QStringLiteral("limits (train, test)"), QStringLiteral("%1, %2").arg(c.trainLimit).arg(c.testLimit));
    QStringList keep;
    for (const auto& name : c.sq.keepFloat)
        keep << QString::fromStdString(name);
    if (!keep.isEmpty())
        html += row(QStringLiteral("kept float"), keep.join(QStringLiteral(", ")));
    return html + QStringLiteral("</table>\n");
}

QString resultsTable(const Snapshot& s)
{
    QString html = QStringLiteral("<h2>Results</h2>\n<table class=\"kv\">\n");
    html += row(QStringLiteral("progress"), QStringLiteral("epoch %1 of %2, step %3%4")
                                                .arg(s.epoch + 1).arg(s.epochs).arg(s.step)
                                                .arg(s.finished ? QStringLiteral(", finished") : QString()));
    if (s.lastEvaluation) {
        html += row(QStringLiteral("test accuracy, float"), percent(s.lastEvaluation->floatAccuracy));
        html += row(QStringLiteral("test accuracy, quantized"), percent(s.lastEvaluation->quantizedAccuracy));
    }
    html += row(QStringLiteral("weight bits"), QStringLiteral("%1 (%2× smaller than float32)")
                                                   .arg(grouped(s.memory.weightBits), num(s.memory.weightCompression(), 3)));
    html += row(QStringLiteral("model bits"), QStringLiteral("%1 (%2× smaller than float32)")
                                                  .arg(grouped(s.memory.modelBits), num(s.memory.compression(), 3)));
    html += row(QStringLiteral("training time"), QString::number(s.elapsedSeconds, 'f', 1) + QStringLiteral(" s"));
    return html + QStringLiteral("</table>\n");
}

QString layerTable(const Snapshot& s)
{
    QString html = QStringLiteral(
        "<h2>Layers</h2>\n<table class=\"grid\">\n<tr><th>layer</th><th>shape</th><th>weights</th><th>decision</th>"
        "<th>bits</th><th>alpha</th><th>beta</th><th>&minus; / 0 / + shares</th><th>quant. error</th></tr>\n");
    for (const LayerSnapshot& layer : s.layers) {
        const LayerQuantState& l = layer.state;
        html += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td><td>%6</td><td>%7</td>"
                               "<td>%8 / %9 / %10</td><td>%11</td></tr>\n")
                    .arg(esc(l.name), esc(l.description), grouped(l.weights), esc(l.decision))
                    .arg(l.bits)
                    .arg(num(l.alpha), num(l.beta))
                    .arg(QString::number(l.shareNegative, 'f', 3), QString::number(l.shareZero, 'f', 3),
                         QString::number(l.sharePositive, 'f', 3), num(l.quantError, 3));
    }
    return html + QStringLiteral("</table>\n");
}

} // namespace

QString runReportHtml(const TrainConfig* config, const Snapshot& last, const QList<ReportFigure>& figures)
{
    QString html = QStringLiteral(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>SQ Explorer run report</title>\n"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin-bottom:1em}th,td{padding:3px 10px;text-align:left}"
        "table.grid td,table.grid th{border:1px solid #ccc}table.kv th{color:#555;font-weight:normal}"
        "figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}figure img{max-width:520px;"
        "border:1px solid #ddd}figcaption{font-size:90%;color:#555}</style>\n</head><body>\n");
    html += QStringLiteral("<h1>SQ Explorer run report: %1</h1>\n<p>%2, SQ Explorer %3</p>\n")
                .arg(esc(last.mode), QDateTime::currentDateTime().toString(Qt::ISODate), QStringLiteral(SQ_VERSION));
    if (config)
        html += settingsTable(*config);
    html += resultsTable(last);
    html += layerTable(last);
    html += QStringLiteral("<h2>Figures</h2>\n");
    for (const ReportFigure& f : figures)
        html += QStringLiteral("<figure><a href=\"%1\"><img src=\"%1\" alt=\"%2\"></a><figcaption>%2</figcaption></figure>\n")
                    .arg(esc(f.file), esc(f.title));
    return html + QStringLiteral("</body></html>\n");
}

} // namespace sq::ui

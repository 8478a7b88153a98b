#include "ui/run_comparison.h"

#include "ui/theme.h"

#include <qcustomplot.h>

#include <QHash>

namespace sq::ui {

namespace {

class BitsTicker : public QCPAxisTickerLog {
protected:
    QString getTickLabel(double tick, const QLocale&, QChar, int) override { return formatBits(tick); }
};

} // namespace

QSharedPointer<QCPAxisTicker> makeBitsTicker()
{
    auto ticker = QSharedPointer<BitsTicker>(new BitsTicker);
    ticker->setLogBase(10);
    ticker->setSubTickCount(8);
    return ticker;
}

MethodFamily methodFamily(const RunSummary& summary)
{
    switch (summary.config.sq.mode) {
    case QuantMode::Float:
        return MethodFamily::Float;
    case QuantMode::Binary:
        return MethodFamily::Binary;
    case QuantMode::Ternary:
        return MethodFamily::Ternary;
    case QuantMode::Sq:
        return MethodFamily::Sq;
    case QuantMode::Uniq:
        return MethodFamily::Uniq;
    case QuantMode::Cpq:
        return MethodFamily::Cpq;
    }
    return MethodFamily::Sq;
}

QString familyName(MethodFamily family)
{
    switch (family) {
    case MethodFamily::Float:
        return QStringLiteral("float");
    case MethodFamily::Binary:
        return QStringLiteral("binary");
    case MethodFamily::Ternary:
        return QStringLiteral("ternary");
    case MethodFamily::Sq:
        return QStringLiteral("SQ");
    case MethodFamily::Uniq:
        return QStringLiteral("UniQ");
    case MethodFamily::Cpq:
        return QStringLiteral("CPQ (DropBits)");
    }
    return {};
}

QColor familyColor(MethodFamily family)
{
    // Binary and ternary keep the colours every view gives those decisions; the three learned
    // methods take Okabe-Ito hues none of the fixed ones uses.
    switch (family) {
    case MethodFamily::Float:
        return Theme::floatColor();
    case MethodFamily::Binary:
        return Theme::binaryColor();
    case MethodFamily::Ternary:
        return Theme::ternaryColor();
    case MethodFamily::Sq:
        return QColor(0x00, 0x9e, 0x73); // bluish green
    case MethodFamily::Uniq:
        return QColor(0xe6, 0x9f, 0x00); // orange
    case MethodFamily::Cpq:
        return QColor(0xcc, 0x79, 0xa7); // reddish purple
    }
    return Theme::floatColor();
}

QList<ComparedRun> compareRuns(const std::vector<std::shared_ptr<const LoadedRun>>& runs)
{
    QList<ComparedRun> out;
    QHash<QString, int> uses;
    for (const auto& run : runs)
        ++uses[QString::fromStdString(runLabel(run->summary))];
    int index = 0;
    for (const auto& run : runs) {
        QString label = QString::fromStdString(runLabel(run->summary));
        if (uses.value(label) > 1)
            label += QStringLiteral(" · ") + QString::fromStdString(run->name);
        // Okabe-Ito without its yellow (too faint for a thin line on white), then Tol's black, wine,
        // indigo and olive: ten runs before a colour repeats.
        static const QColor palette[] = {QColor(0x00, 0x72, 0xb2), QColor(0xd5, 0x5e, 0x00), QColor(0x00, 0x9e, 0x73),
                                         QColor(0xe6, 0x9f, 0x00), QColor(0xcc, 0x79, 0xa7), QColor(0x56, 0xb4, 0xe9),
                                         QColor(0x00, 0x00, 0x00), QColor(0x88, 0x22, 0x55), QColor(0x33, 0x22, 0x88),
                                         QColor(0x99, 0x99, 0x33)};
        out.append({run, label, palette[index % 10], methodFamily(run->summary)});
        ++index;
    }
    return out;
}

QString formatBits(double bits)
{
    if (bits >= 1e9)
        return QStringLiteral("%1 Gbit").arg(bits / 1e9, 0, 'g', 3);
    if (bits >= 1e6)
        return QStringLiteral("%1 Mbit").arg(bits / 1e6, 0, 'g', 3);
    if (bits >= 1e3)
        return QStringLiteral("%1 kbit").arg(bits / 1e3, 0, 'g', 3);
    return QStringLiteral("%1 bit").arg(bits, 0, 'g', 3);
}

} // namespace sq::ui

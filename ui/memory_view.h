// Model memory under the current decisions: storage bits per layer and compression against float32.
#pragma once

#include <QList>
#include <QString>
#include <QWidget>

#include <memory>
#include <vector>

class QCPBars;
class QCPItemText;
class QCustomPlot;
class QLabel;

namespace sq {
struct Snapshot;
}

namespace sq::ui {

// Bars of bits * weights per layer, coloured by decision (one bar set per decision, so the legend
// names them) and labelled with the bits per weight; below, the totals and compression ratios.
class MemoryView : public QWidget {
    Q_OBJECT

public:
    explicit MemoryView(QWidget* parent = nullptr);

    void addSnapshot(const std::shared_ptr<const sq::Snapshot>& snapshot);
    void clear();
    QList<QCustomPlot*> plots() const;

    QString summaryText() const;

private:
    QCPBars* barsFor(const QString& decision);
    void restyle();

    QCustomPlot* plot_ = nullptr;
    QLabel* headline_ = nullptr;
    QLabel* details_ = nullptr;
    std::vector<std::pair<QString, QCPBars*>> bars_; // by decision, in order of first appearance
    std::vector<QCPItemText*> labels_;               // one per layer, above its bar
};

} // namespace sq::ui

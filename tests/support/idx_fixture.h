// A tiny IDX dataset written by tests: 8x8 images whose class (0-3) is the row that is bright.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QString>

namespace sq::testing {

inline void appendBigEndian(QByteArray& b, quint32 v)
{
    for (int s = 24; s >= 0; s -= 8)
        b.append(static_cast<char>((v >> s) & 0xff));
}

// Writes train-/t10k-{images-idx3,labels-idx1}-ubyte into `dir`; false if a file cannot be written.
inline bool writeIdxDataset(const QString& dir, int train, int test)
{
    auto write = [&](const QString& prefix, int count) {
        QByteArray images;
        QByteArray labels;
        appendBigEndian(images, 0x00000803);
        appendBigEndian(images, static_cast<quint32>(count));
        appendBigEndian(images, 8);
        appendBigEndian(images, 8);
        appendBigEndian(labels, 0x00000801);
        appendBigEndian(labels, static_cast<quint32>(count));
        for (int i = 0; i < count; ++i) {
            const int label = (i * 7) % 10 % 4;
            labels.append(static_cast<char>(label));
            for (int r = 0; r < 8; ++r)
                for (int c = 0; c < 8; ++c)
                    images.append(static_cast<char>(r == 2 * label ? 200 + (i + c) % 50 : (i * 31 + c * 17) % 60));
        }
        QFile fi(dir + "/" + prefix + "-images-idx3-ubyte");
        QFile fl(dir + "/" + prefix + "-labels-idx1-ubyte");
        return fi.open(QIODevice::WriteOnly) && fl.open(QIODevice::WriteOnly) && fi.write(images) == images.size()
               && fl.write(labels) == labels.size();
    };
    return write("train", train) && write("t10k", test);
}

} // namespace sq::testing

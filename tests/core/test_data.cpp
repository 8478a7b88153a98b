// Qt Test suite for the dataset readers: IDX and CIFAR-10 files, folder loading, normalisation, batches.
#include "core/data/batch_iterator.h"
#include "core/data/byte_source.h"
#include "core/data/cifar10_reader.h"
#include "core/data/dataset.h"
#include "core/data/idx_reader.h"
#include "core/error.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QStringList>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

using namespace sq;

namespace {

const char* const kTrainImages = "train-images-idx3-ubyte";
const char* const kTrainLabels = "train-labels-idx1-ubyte";
const char* const kTestImages = "t10k-images-idx3-ubyte";
const char* const kTestLabels = "t10k-labels-idx1-ubyte";
const char* const kFashionDir = "/usr/share/datasets/fashion-mnist";
constexpr int kCifarPixels = 3 * 32 * 32;

QByteArray be32(quint32 v)
{
    const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    return QByteArray(b, 4);
}

QByteArray le32(quint32 v)
{
    const char b[4] = {char(v), char(v >> 8), char(v >> 16), char(v >> 24)};
    return QByteArray(b, 4);
}

QByteArray bytes(std::initializer_list<int> values)
{
    QByteArray out;
    for (int v : values)
        out.append(char(v));
    return out;
}

// An IDX file: two zero bytes, the element type, the rank, big-endian dimensions, the payload.
QByteArray idx(const std::vector<quint32>& dims, const QByteArray& payload, int type = 0x08)
{
    QByteArray out = bytes({0, 0, type, int(dims.size())});
    for (quint32 d : dims)
        out += be32(d);
    return out + payload;
}

// Bitwise CRC-32 (the reflected 0xEDB88320 polynomial gzip uses); speed is irrelevant here.
quint32 crc32Of(const QByteArray& data)
{
    quint32 crc = 0xFFFFFFFFu;
    for (char ch : data) {
        crc ^= quint8(ch);
        for (int k = 0; k < 8; ++k)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

// qCompress gives Qt's 4-byte length, then a zlib stream (2-byte header, deflate data, Adler-32);
// a gzip file is the same deflate data between a 10-byte header and a CRC-32 + length trailer.
QByteArray gzip(const QByteArray& raw)
{
    const QByteArray zlibStream = qCompress(raw, 9).mid(4);
    QByteArray out = bytes({0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff});
    out += zlibStream.mid(2, zlibStream.size() - 6);
    return out + le32(crc32Of(raw)) + le32(quint32(raw.size()));
}

bool writeFile(const QString& path, const QByteArray& content)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

template <typename F>
QString errorFrom(F&& f)
{
    try {
        f();
    } catch (const sq::Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

// The pixel byte of record `record` at (c, y, x) in the CIFAR fixtures: distinct per plane and position.
int cifarByte(int record, int c, int y, int x) { return (record * 37 + c * 80 + y * 3 + x) % 256; }

QByteArray cifarRecord(int label, int record)
{
    QByteArray out = bytes({label});
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 32; ++y)
            for (int x = 0; x < 32; ++x)
                out.append(char(cifarByte(record, c, y, x)));
    return out;
}

QByteArray cifarBatch(int firstRecord, int records)
{
    QByteArray out;
    for (int r = 0; r < records; ++r)
        out += cifarRecord((firstRecord + r) % 10, firstRecord + r);
    return out;
}

// Writes a small valid file for a name in the folder tests: IDX images (2 of 1x2) or labels
// (2), or a CIFAR batch of one record; a ".gz" name gets gzip content.
bool writeValid(const QDir& dir, const QString& name)
{
    QByteArray content;
    if (name.contains("images"))
        content = idx({2, 1, 2}, bytes({0, 51, 102, 153}));
    else if (name.contains("labels"))
        content = idx({2}, bytes({4, 7}));
    else
        content = cifarBatch(0, 1);
    if (name.endsWith(".gz"))
        content = gzip(content);
    return writeFile(dir.filePath(name), content);
}

// A dataset whose sample n holds n * 1000 + k at pixel k, so a batch says which samples it holds.
Dataset indexDataset(int count, int channels = 1, int height = 1, int width = 1)
{
    Dataset d;
    d.name = "index";
    d.count = count;
    d.channels = channels;
    d.height = height;
    d.width = width;
    const auto sample = d.sampleSize();
    for (int n = 0; n < count; ++n) {
        for (std::size_t k = 0; k < sample; ++k)
            d.images.push_back(float(n * 1000 + int(k)));
        d.labels.push_back(std::uint8_t(n % 10));
    }
    return d;
}

std::vector<int> epochOrder(BatchIterator& it, int epoch)
{
    it.startEpoch(epoch);
    std::vector<int> order;
    Tensor images;
    std::vector<int> labels;
    while (it.next(images, labels))
        for (int b = 0; b < images.dim(0); ++b)
            order.push_back(int(images[std::size_t(b) * images.sampleSize()]) / 1000);
    return order;
}

// Population mean and standard deviation of channel c over a dataset's samples.
std::pair<double, double> channelMoments(const Dataset& d, int c)
{
    const std::size_t plane = std::size_t(d.height) * std::size_t(d.width);
    double sum = 0, squares = 0;
    for (int n = 0; n < d.count; ++n)
        for (std::size_t i = 0; i < plane; ++i) {
            const double v = d.images[(std::size_t(n) * std::size_t(d.channels) + std::size_t(c)) * plane + i];
            sum += v;
            squares += v * v;
        }
    const double count = double(d.count) * double(plane);
    const double mean = sum / count;
    return {mean, std::sqrt(std::max(0.0, squares / count - mean * mean))};
}

} // namespace

#define VERIFY_MENTIONS(message, needles)                                                                           \
    do {                                                                                                            \
        QVERIFY2(!(message).isEmpty(), "no sq::Error was thrown");                                                  \
        for (const QString& needle_ : (needles))                                                                    \
            QVERIFY2((message).contains(needle_),                                                                   \
                     qPrintable(QStringLiteral("'%1' missing from the error: %2").arg(needle_, message)));          \
    } while (false)

class TestData : public QObject {
    Q_OBJECT

private slots:
    void byteSourceBounds_data();
    void byteSourceBounds();
    void idxRoundTrip_data();
    void idxRoundTrip();
    void idxPairRoundTrip_data();
    void idxPairRoundTrip();
    void malformedIdx_data();
    void malformedIdx();
    void idxPathIsAFolder();
    void cifarReader_data();
    void cifarReader();
    void malformedCifar_data();
    void malformedCifar();
    void folderLayouts_data();
    void folderLayouts();
    void folderErrors_data();
    void folderErrors();
    void testShapeMustMatchTrain();
    void normalisationHandComputed();
    void normalisationConstantChannel();
    void limits_data();
    void limits();
    void parseKind_data();
    void parseKind();
    void defaultDir();
    void batchesCoverEachSampleOnce_data();
    void batchesCoverEachSampleOnce();
    void batchOrderReproducible();
    void batchOrderVariesWithEpochAndSeed();
    void lastPartialBatch();
    void seekMatchesIteration();
    void batchIteratorRejectsBadArguments();
    void hugeBatchSize();
    void fashionMnist();
};

void TestData::byteSourceBounds_data()
{
    QTest::addColumn<bool>("compressed");
    QTest::addRow("plain") << false;
    QTest::addRow("gzip") << true;
}

void TestData::byteSourceBounds()
{
    QFETCH(bool, compressed);
    QByteArray content;
    for (int i = 0; i < 3000; ++i)
        content.append(char(i % 7));
    const QByteArray file = compressed ? gzip(content) : content;
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath("blob");
    QVERIFY(writeFile(path, file));

    {
        ByteSource src(path.toStdString());
        QCOMPARE(src.gzipped(), compressed);
        QCOMPARE(src.fileSize(), std::uint64_t(file.size()));
        // Exact for a plain file; deflate's 1032:1 worst case for gzip, which must cover the content.
        QCOMPARE(src.remainingBound(), std::uint64_t(file.size()) * (compressed ? 1032 : 1));
        QVERIFY(src.remainingBound() >= std::uint64_t(content.size()));
        const std::vector<std::uint8_t> head = src.readUpTo(1000);
        QCOMPARE(int(head.size()), 1000);
        QCOMPARE(src.position(), std::uint64_t(1000));
        const std::vector<std::uint8_t> rest = src.readAll(5000);
        QCOMPARE(int(rest.size()), 2000);
        QCOMPARE(QByteArray(reinterpret_cast<const char*>(rest.data()), 2000), content.mid(1000));
        QVERIFY(src.readUpTo(10).empty());
        QCOMPARE(src.skipRest(), std::uint64_t(0));
    }
    {
        ByteSource src(path.toStdString());
        const QString message = errorFrom([&] { src.readAll(2999); });
        VERIFY_MENTIONS(message, (QStringList{path, "absurd size", "2999 bytes"}));
    }
    {
        ByteSource src(path.toStdString());
        QCOMPARE(int(src.readAll(3000).size()), 3000);
    }
    {
        ByteSource src(path.toStdString());
        QCOMPARE(int(src.readUpTo(100).size()), 100);
        QCOMPARE(src.skipRest(), std::uint64_t(2900));
    }
}

void TestData::idxRoundTrip_data()
{
    QTest::addColumn<QVariantList>("dims");
    QTest::addColumn<bool>("compressed");
    QTest::addColumn<QString>("fileName");

    QTest::addRow("1-D plain") << QVariantList{5} << false << "a-idx1-ubyte";
    QTest::addRow("3-D plain") << QVariantList{3, 2, 4} << false << "a-idx3-ubyte";
    QTest::addRow("4-D plain") << QVariantList{2, 3, 2, 2} << false << "a-idx4-ubyte";
    QTest::addRow("3-D gzip named .gz") << QVariantList{3, 2, 4} << true << "a-idx3-ubyte.gz";
    QTest::addRow("3-D gzip under a plain name (magic decides)") << QVariantList{3, 2, 4} << true << "a-idx3-ubyte";
    QTest::addRow("1-D gzip") << QVariantList{7} << true << "a-idx1-ubyte.gz";
}

void TestData::idxRoundTrip()
{
    QFETCH(QVariantList, dims);
    QFETCH(bool, compressed);
    QFETCH(QString, fileName);

    std::vector<quint32> shape;
    int total = 1;
    for (const QVariant& d : dims) {
        shape.push_back(quint32(d.toInt()));
        total *= d.toInt();
    }
    QByteArray payload;
    for (int i = 0; i < total; ++i)
        payload.append(char((i * 29 + 7) % 256));
    QByteArray file = idx(shape, payload);
    if (compressed)
        file = gzip(file);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(fileName);
    QVERIFY(writeFile(path, file));

    const IdxArray array = readIdx(path.toStdString());
    QCOMPARE(int(array.dims.size()), int(shape.size()));
    for (std::size_t i = 0; i < shape.size(); ++i)
        QCOMPARE(array.dims[i], int(shape[i]));
    QCOMPARE(int(array.data.size()), total);
    for (int i = 0; i < total; ++i)
        QCOMPARE(int(array.data[std::size_t(i)]), (i * 29 + 7) % 256);
}

void TestData::idxPairRoundTrip_data()
{
    QTest::addColumn<bool>("compressed");
    QTest::addRow("plain") << false;
    QTest::addRow("gzip") << true;
}

void TestData::idxPairRoundTrip()
{
    QFETCH(bool, compressed);
    // 3 images of 2 rows x 4 columns.
    QByteArray pixels;
    for (int i = 0; i < 24; ++i)
        pixels.append(char(i * 11));
    QByteArray images = idx({3, 2, 4}, pixels);
    QByteArray labels = idx({3}, bytes({3, 0, 9}));
    if (compressed) {
        images = gzip(images);
        labels = gzip(labels);
    }
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(writeFile(dir.filePath(kTrainImages), images));
    QVERIFY(writeFile(dir.filePath(kTrainLabels), labels));

    const Dataset d = readIdxPair(dir.filePath(kTrainImages).toStdString(), dir.filePath(kTrainLabels).toStdString());
    QCOMPARE(d.count, 3);
    QCOMPARE(d.channels, 1);
    QCOMPARE(d.height, 2);
    QCOMPARE(d.width, 4);
    QCOMPARE(d.classes, 10);
    QCOMPARE(d.sampleShape(), (std::vector<int>{1, 2, 4}));
    QCOMPARE(int(d.sampleSize()), 8);
    QCOMPARE(int(d.images.size()), 24);
    for (int i = 0; i < 24; ++i)
        QCOMPARE(d.images[std::size_t(i)], float(i * 11) / 255.0f);
    QCOMPARE(d.labels, (std::vector<std::uint8_t>{3, 0, 9}));
}

void TestData::malformedIdx_data()
{
    QTest::addColumn<QByteArray>("images");
    QTest::addColumn<QByteArray>("labels");
    QTest::addColumn<QString>("missing"); // "images" or "labels": that file is not written
    QTest::addColumn<QStringList>("culprits");
    QTest::addColumn<QStringList>("keywords");

    const QByteArray goodImages = idx({2, 2, 2}, bytes({1, 2, 3, 4, 5, 6, 7, 8}));
    const QByteArray goodLabels = idx({2}, bytes({1, 2}));
    const QStringList img{kTrainImages}, lbl{kTrainLabels};

    QTest::addRow("missing images file") << goodImages << goodLabels << "images" << img << QStringList{"not found"};
    QTest::addRow("missing labels file") << goodImages << goodLabels << "labels" << lbl << QStringList{"not found"};
    QTest::addRow("empty images file") << QByteArray() << goodLabels << "" << img << QStringList{"truncated", "header"};
    QTest::addRow("header cut inside the magic") << bytes({0, 0, 8}) << goodLabels << "" << img
                                                 << QStringList{"truncated", "header"};
    QTest::addRow("header cut inside the dimensions") << bytes({0, 0, 8, 3, 0, 0, 0, 2, 0, 0}) << goodLabels << ""
                                                      << img << QStringList{"truncated", "header"};
    QTest::addRow("bad magic first byte") << "\x01" + goodImages.mid(1) << goodLabels << "" << img
                                          << QStringList{"bad magic", "0x01"};
    QTest::addRow("bad magic second byte") << bytes({0, 0x2a}) + goodImages.mid(2) << goodLabels << "" << img
                                           << QStringList{"bad magic", "0x2A"};
    QTest::addRow("a text file") << QByteArray("hello, world\n") << goodLabels << "" << img
                                 << QStringList{"bad magic"};
    QTest::addRow("float element type 0x0D") << idx({2, 2, 2}, QByteArray(32, 0), 0x0D) << goodLabels << "" << img
                                             << QStringList{"element type", "0x0D"};
    QTest::addRow("zero dimensions") << bytes({0, 0, 8, 0}) << goodLabels << "" << img
                                     << QStringList{"0 dimensions"};
    QTest::addRow("five dimensions") << idx({1, 1, 1, 1, 1}, bytes({0})) << goodLabels << "" << img
                                     << QStringList{"5 dimensions"};
    QTest::addRow("images with 1 dimension") << idx({8}, QByteArray(8, 0)) << goodLabels << "" << img
                                             << QStringList{"3 dimensions", "has 1"};
    QTest::addRow("labels with 3 dimensions") << goodImages << idx({2, 1, 1}, bytes({1, 2})) << "" << lbl
                                              << QStringList{"1 dimension", "has 3"};
    QTest::addRow("dimension 0") << idx({2, 0, 2}, QByteArray()) << goodLabels << "" << img
                                 << QStringList{"absurd size", "dimension 1 is 0"};
    QTest::addRow("header claims 60000x4000x4000 (over 1 GiB)") << idx({60000, 4000, 4000}, bytes({1, 2}))
                                                                << goodLabels << "" << img
                                                                << QStringList{"absurd size", "1 GiB"};
    QTest::addRow("header claims four 2^32-1 dimensions") << idx({~0u, ~0u, ~0u, ~0u}, QByteArray()) << goodLabels
                                                          << "" << img << QStringList{"absurd size", "1 GiB"};
    QTest::addRow("labels claim over 1 GiB") << goodImages << idx({0x7fffffffu}, bytes({1})) << "" << lbl
                                             << QStringList{"absurd size", "1 GiB"};
    QTest::addRow("images of 5000x5000") << idx({1, 5000, 5000}, bytes({1})) << idx({1}, bytes({1})) << "" << img
                                         << QStringList{"absurd image size", "5000x5000"};
    QTest::addRow("truncated images payload") << goodImages.left(goodImages.size() - 3) << goodLabels << "" << img
                                              << QStringList{"truncated payload", "expected 8 bytes, got 5"};
    QTest::addRow("truncated labels payload") << goodImages << goodLabels.left(goodLabels.size() - 1) << "" << lbl
                                              << QStringList{"truncated payload", "expected 2 bytes, got 1"};
    QTest::addRow("truncated gzip payload") << gzip(goodImages.left(goodImages.size() - 3)) << goodLabels << ""
                                            << img << QStringList{"truncated payload", "expected 8 bytes, got 5"};
    QTest::addRow("small gzip claiming 16 MiB") << gzip(idx({1, 4096, 4096}, QByteArray(10, 1)))
                                                << idx({1}, bytes({1})) << "" << img
                                                << QStringList{"truncated payload", "expected 16777216 bytes, got 10"};
    QTest::addRow("trailing garbage") << goodImages + "xyz" << goodLabels << "" << img
                                      << QStringList{"trailing garbage", "3 bytes"};
    QTest::addRow("trailing garbage in gzip") << gzip(goodImages + "xyzw") << goodLabels << "" << img
                                              << QStringList{"trailing garbage", "4 bytes"};
    QTest::addRow("trailing garbage in labels") << goodImages << goodLabels + bytes({0}) << "" << lbl
                                                << QStringList{"trailing garbage", "1 byte after"};
    QTest::addRow("image and label counts differ") << goodImages << idx({3}, bytes({1, 2, 3})) << ""
                                                   << QStringList{kTrainImages, kTrainLabels}
                                                   << QStringList{"count mismatch", "2 images", "3 labels"};
    QTest::addRow("label out of range") << goodImages << idx({2}, bytes({1, 12})) << "" << lbl
                                        << QStringList{"label 12", "index 1", "out of range"};
    QTest::addRow("label 255") << goodImages << idx({2}, bytes({255, 0})) << "" << lbl
                               << QStringList{"label 255", "index 0", "out of range"};

    QByteArray badCrc = gzip(goodImages);
    badCrc[badCrc.size() - 8] = char(badCrc[badCrc.size() - 8] ^ 0x55);
    QTest::addRow("gzip with a wrong CRC") << badCrc << goodLabels << "" << img
                                           << QStringList{"corrupt gzip", "zlib error"};
    QByteArray pixels;
    for (int i = 0; i < 400; ++i)
        pixels.append(char(i * i % 251));
    const QByteArray bigGzip = gzip(idx({4, 10, 10}, pixels));
    QTest::addRow("gzip cut in half") << bigGzip.left(bigGzip.size() / 2) << idx({4}, bytes({1, 2, 3, 4})) << ""
                                      << img << QStringList{"corrupt gzip", "zlib error"};
    QTest::addRow("gzip magic then garbage") << bytes({0x1f, 0x8b, 7, 0}) + QByteArray(40, 'z') << goodLabels << ""
                                             << img << QStringList{"corrupt gzip", "zlib error"};
    QByteArray badDeflate = gzip(goodImages);
    badDeflate[10] = char(0xff); // first deflate byte: a reserved block type
    QTest::addRow("gzip with invalid deflate data") << badDeflate << goodLabels << "" << img
                                                    << QStringList{"corrupt gzip", "zlib error"};
}

void TestData::malformedIdx()
{
    QFETCH(QByteArray, images);
    QFETCH(QByteArray, labels);
    QFETCH(QString, missing);
    QFETCH(QStringList, culprits);
    QFETCH(QStringList, keywords);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    if (missing != "images")
        QVERIFY(writeFile(dir.filePath(kTrainImages), images));
    if (missing != "labels")
        QVERIFY(writeFile(dir.filePath(kTrainLabels), labels));

    const QString message = errorFrom([&] {
        readIdxPair(dir.filePath(kTrainImages).toStdString(), dir.filePath(kTrainLabels).toStdString());
    });
    QStringList needles = keywords;
    for (const QString& culprit : culprits)
        needles << dir.filePath(culprit);
    VERIFY_MENTIONS(message, needles);

    // Through the folder loader the same problem surfaces with the same message.
    if (missing.isEmpty()) {
        QVERIFY(writeValid(QDir(dir.path()), kTestImages));
        QVERIFY(writeValid(QDir(dir.path()), kTestLabels));
        const QString viaFolder = errorFrom([&] { loadDataset(dir.path().toStdString()); });
        QCOMPARE(viaFolder, message);
    }
}

void TestData::idxPathIsAFolder()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(QDir(dir.path()).mkdir(kTrainImages));
    const QString path = dir.filePath(kTrainImages);
    const QString message = errorFrom([&] { readIdx(path.toStdString()); });
    VERIFY_MENTIONS(message, (QStringList{path, "not a regular file"}));
}

void TestData::cifarReader_data()
{
    QTest::addColumn<QString>("subfolder");
    QTest::addColumn<bool>("compressed");
    QTest::addRow("batches in the folder") << "" << false;
    QTest::addRow("batches in cifar-10-batches-bin") << "cifar-10-batches-bin" << false;
    QTest::addRow("gzip batches") << "" << true;
}

void TestData::cifarReader()
{
    QFETCH(QString, subfolder);
    QFETCH(bool, compressed);

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QDir dir(tmp.path() + "/" + subfolder);
    const auto put = [&](const QString& name, const QByteArray& content) {
        return writeFile(dir.filePath(name), compressed ? gzip(content) : content);
    };
    // Records 0-1 in batch 1, record 2 in batch 2, records 3-4 in the test batch; label = record % 10.
    QVERIFY(put("data_batch_1.bin", cifarBatch(0, 2)));
    QVERIFY(put("data_batch_2.bin", cifarBatch(2, 1)));
    QVERIFY(put("test_batch.bin", cifarBatch(3, 2)));

    const Dataset raw = readCifar10Batches({dir.filePath("data_batch_1.bin").toStdString(),
                                            dir.filePath("data_batch_2.bin").toStdString()});
    QCOMPARE(raw.count, 3);
    QCOMPARE(raw.sampleShape(), (std::vector<int>{3, 32, 32}));
    QCOMPARE(raw.classes, 10);
    QCOMPARE(raw.labels, (std::vector<std::uint8_t>{0, 1, 2}));
    QCOMPARE(int(raw.images.size()), 3 * kCifarPixels);
    for (int n = 0; n < 3; ++n)
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < 32; ++y)
                for (int x = 0; x < 32; ++x) {
                    const float got = raw.images[std::size_t(n * kCifarPixels + c * 1024 + y * 32 + x)];
                    if (got != float(cifarByte(n, c, y, x)) / 255.0f)
                        QFAIL(qPrintable(QStringLiteral("pixel (%1, %2, %3, %4) misplaced").arg(n).arg(c).arg(y).arg(x)));
                }

    // Auto detection must pick CIFAR-10 (three channels) and normalise with the training statistics.
    const DatasetSplits splits = loadDataset(tmp.path().toStdString());
    QCOMPARE(splits.train.count, 3);
    QCOMPARE(splits.test.count, 2);
    QCOMPARE(splits.train.sampleShape(), (std::vector<int>{3, 32, 32}));
    QCOMPARE(splits.test.labels, (std::vector<std::uint8_t>{3, 4}));
    QCOMPARE(QString::fromStdString(splits.train.name), QFileInfo(tmp.path()).fileName() + " train");
    QCOMPARE(QString::fromStdString(splits.test.name), QFileInfo(tmp.path()).fileName() + " test");
    QCOMPARE(int(splits.mean.size()), 3);
    QCOMPARE(int(splits.stddev.size()), 3);
    for (int c = 0; c < 3; ++c) {
        const auto [rawMean, rawStd] = channelMoments(raw, c);
        QVERIFY(std::abs(splits.mean[std::size_t(c)] - rawMean) < 1e-5);
        QVERIFY(std::abs(splits.stddev[std::size_t(c)] - rawStd) < 1e-5);
        const auto [mean, stddev] = channelMoments(splits.train, c);
        QVERIFY2(std::abs(mean) < 1e-4, qPrintable(QString::number(mean)));
        QVERIFY2(std::abs(stddev - 1.0) < 1e-4, qPrintable(QString::number(stddev)));
        for (int n = 0; n < 2; ++n)
            for (int i : {0, 517, 1023}) {
                const double expected = (cifarByte(3 + n, c, i / 32, i % 32) / 255.0 - rawMean) / rawStd;
                QVERIFY(std::abs(splits.test.images[std::size_t(n * kCifarPixels + c * 1024 + i)] - expected) < 1e-4);
            }
    }
}

void TestData::malformedCifar_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<bool>("write");
    QTest::addColumn<QStringList>("keywords");

    QTest::addRow("missing file") << QByteArray() << false << QStringList{"not found"};
    QTest::addRow("empty file") << QByteArray() << true << QStringList{"empty"};
    QTest::addRow("size not a multiple of 3073") << cifarBatch(0, 2) + "abcde" << true
                                                 << QStringList{"not a multiple", "3073", "6151 bytes", "2 records and 5 bytes"};
    QTest::addRow("a single short record") << cifarBatch(0, 1).left(3000) << true
                                           << QStringList{"not a multiple", "3073"};
    QTest::addRow("gzip with a partial record") << gzip(cifarBatch(0, 1) + "x") << true
                                                << QStringList{"not a multiple", "3073"};
    QByteArray badLabel = cifarBatch(0, 3);
    badLabel[3073] = char(10);
    QTest::addRow("label 10") << badLabel << true << QStringList{"label 10", "record 1", "out of range"};
    badLabel[3073] = char(1);
    badLabel[2 * 3073] = char(200);
    QTest::addRow("label 200") << badLabel << true << QStringList{"label 200", "record 2", "out of range"};
    QByteArray corrupt = gzip(cifarBatch(0, 1));
    corrupt[corrupt.size() - 3] = char(corrupt[corrupt.size() - 3] ^ 1); // length field of the trailer
    QTest::addRow("gzip with a wrong length") << corrupt << true << QStringList{"corrupt gzip", "zlib error"};
}

void TestData::malformedCifar()
{
    QFETCH(QByteArray, content);
    QFETCH(bool, write);
    QFETCH(QStringList, keywords);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QVERIFY(writeFile(dir.filePath("data_batch_1.bin"), cifarBatch(0, 2)));
    const QString path = dir.filePath("data_batch_2.bin");
    if (write)
        QVERIFY(writeFile(path, content));
    const QString message = errorFrom([&] {
        readCifar10Batches({dir.filePath("data_batch_1.bin").toStdString(), path.toStdString()});
    });
    VERIFY_MENTIONS(message, keywords + QStringList{path});
}

void TestData::folderLayouts_data()
{
    QTest::addColumn<QStringList>("files");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("trainCount");

    const QStringList idxNames{kTrainImages, kTrainLabels, kTestImages, kTestLabels};
    QStringList gz, dotted, dottedGz, mixed;
    for (const QString& name : idxNames) {
        gz << name + ".gz";
        QString d = name;
        d[d.lastIndexOf("-idx")] = '.';
        dotted << d;
        dottedGz << d + ".gz";
    }
    mixed << idxNames[0] << gz[1] << dotted[2] << dottedGz[3];
    const QStringList cifar{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                            "data_batch_5.bin", "test_batch.bin"};
    QStringList cifarSub;
    for (const QString& name : cifar)
        cifarSub << "cifar-10-batches-bin/" + name;

    QTest::addRow("IDX plain, auto") << idxNames << "auto" << 1 << 2;
    QTest::addRow("IDX plain, idx") << idxNames << "idx" << 1 << 2;
    QTest::addRow("IDX .gz") << gz << "auto" << 1 << 2;
    QTest::addRow("IDX mirror names (train-images.idx3-ubyte)") << dotted << "auto" << 1 << 2;
    QTest::addRow("IDX mirror names .gz") << dottedGz << "auto" << 1 << 2;
    QTest::addRow("IDX mixed names") << mixed << "auto" << 1 << 2;
    QTest::addRow("CIFAR-10 all five batches, auto") << cifar << "auto" << 3 << 5;
    QTest::addRow("CIFAR-10 all five batches, cifar10") << cifar << "cifar10" << 3 << 5;
    QTest::addRow("CIFAR-10 in cifar-10-batches-bin") << cifarSub << "auto" << 3 << 5;
    QTest::addRow("CIFAR-10 first two batches only")
        << QStringList{"data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"} << "auto" << 3 << 2;
}

void TestData::folderLayouts()
{
    QFETCH(QStringList, files);
    QFETCH(QString, kind);
    QFETCH(int, channels);
    QFETCH(int, trainCount);

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QDir dir(tmp.path());
    for (const QString& name : files)
        QVERIFY(writeValid(dir, name));
    const DatasetSplits splits = loadDataset(tmp.path().toStdString(), parseDatasetKind(kind.toStdString()));
    QCOMPARE(splits.train.channels, channels);
    QCOMPARE(splits.train.count, trainCount);
    QCOMPARE(splits.test.count, channels == 1 ? 2 : 1);
    QCOMPARE(splits.train.sampleShape(), splits.test.sampleShape());
}

void TestData::folderErrors_data()
{
    QTest::addColumn<QStringList>("files");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QStringList>("keywords");

    const QStringList idxNames{kTrainImages, kTrainLabels, kTestImages, kTestLabels};
    QTest::addRow("folder does not exist") << QStringList{"<no folder>"} << "auto"
                                           << QStringList{"does not exist"};
    QTest::addRow("path is a file") << QStringList{"<a file>"} << "auto" << QStringList{"not a folder"};
    QTest::addRow("empty folder") << QStringList{} << "auto"
                                  << QStringList{"no dataset found", kTrainImages, kTestLabels, "data_batch_1.bin",
                                                 "data_batch_5.bin", "test_batch.bin", "cifar-10-batches-bin"};
    QTest::addRow("IDX without test labels") << idxNames.mid(0, 3) << "auto"
                                             << QStringList{kTestLabels, "not found", "t10k-labels.idx1-ubyte.gz"};
    QTest::addRow("IDX with only the test files") << idxNames.mid(2) << "auto"
                                                  << QStringList{kTrainImages, "not found"};
    QTest::addRow("IDX folder read as CIFAR-10") << idxNames << "cifar10"
                                                 << QStringList{"data_batch_1.bin", "not found",
                                                                "cifar-10-batches-bin"};
    QTest::addRow("CIFAR-10 folder read as IDX") << QStringList{"data_batch_1.bin", "test_batch.bin"} << "idx"
                                                 << QStringList{kTrainImages, "not found"};
    QTest::addRow("CIFAR-10 without test batch") << QStringList{"data_batch_1.bin"} << "auto"
                                                 << QStringList{"test_batch.bin", "not found"};
    QTest::addRow("CIFAR-10 without data_batch_1") << QStringList{"data_batch_2.bin", "test_batch.bin"} << "auto"
                                                   << QStringList{"data_batch_1.bin", "not found"};
    QTest::addRow("CIFAR-10 batches skip a number")
        << QStringList{"data_batch_1.bin", "data_batch_2.bin", "data_batch_4.bin", "test_batch.bin"} << "auto"
        << QStringList{"data_batch_3.bin", "data_batch_4.bin exists", "skip"};
}

void TestData::folderErrors()
{
    QFETCH(QStringList, files);
    QFETCH(QString, kind);
    QFETCH(QStringList, keywords);

    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    QString target = tmp.path();
    if (files == QStringList{"<no folder>"}) {
        target = tmp.filePath("nowhere");
    } else if (files == QStringList{"<a file>"}) {
        target = tmp.filePath("plain.txt");
        QVERIFY(writeFile(target, "x"));
    } else {
        for (const QString& name : files)
            QVERIFY(writeValid(QDir(target), name));
    }
    const QString message = errorFrom([&] {
        loadDataset(target.toStdString(), parseDatasetKind(kind.toStdString()));
    });
    VERIFY_MENTIONS(message, keywords + QStringList{target});
}

void TestData::testShapeMustMatchTrain()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QDir dir(tmp.path());
    QVERIFY(writeValid(dir, kTrainImages));
    QVERIFY(writeValid(dir, kTrainLabels));
    QVERIFY(writeFile(dir.filePath(kTestImages), idx({2, 2, 2}, QByteArray(8, 9))));
    QVERIFY(writeValid(dir, kTestLabels));
    const QString message = errorFrom([&] { loadDataset(tmp.path().toStdString()); });
    VERIFY_MENTIONS(message, (QStringList{dir.filePath(kTestImages), "(1, 2, 2)", "(1, 1, 2)"}));
}

void TestData::normalisationHandComputed()
{
    // Training pixels 0, 51, 102, 153 are 0, 0.2, 0.4, 0.6 after /255: mean 0.3, variance
    // (0.09 + 0.01 + 0.01 + 0.09) / 4 = 0.05, std sqrt(0.05) = 0.2236068. The last two training
    // images fall outside trainLimit = 2 and must not count.
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QDir dir(tmp.path());
    QVERIFY(writeFile(dir.filePath(kTrainImages), idx({4, 1, 2}, bytes({0, 51, 102, 153, 255, 255, 255, 255}))));
    QVERIFY(writeFile(dir.filePath(kTrainLabels), idx({4}, bytes({0, 1, 2, 3}))));
    QVERIFY(writeFile(dir.filePath(kTestImages), idx({1, 1, 2}, bytes({255, 0}))));
    QVERIFY(writeFile(dir.filePath(kTestLabels), idx({1}, bytes({5}))));

    const DatasetSplits s = loadDataset(tmp.path().toStdString(), DatasetKind::Idx, 2);
    QCOMPARE(int(s.mean.size()), 1);
    QVERIFY(std::abs(s.mean[0] - 0.3f) < 1e-6f);
    QVERIFY(std::abs(s.stddev[0] - 0.2236068f) < 1e-6f);
    const std::vector<float> train{-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f};
    QCOMPARE(int(s.train.images.size()), 4);
    for (std::size_t i = 0; i < 4; ++i)
        QVERIFY2(std::abs(s.train.images[i] - train[i]) < 1e-5f, qPrintable(QString::number(s.train.images[i])));
    // The test split uses the training statistics: (1 - 0.3) / 0.2236068 and (0 - 0.3) / 0.2236068.
    QVERIFY(std::abs(s.test.images[0] - 3.1304952f) < 1e-5f);
    QVERIFY(std::abs(s.test.images[1] - -1.3416408f) < 1e-5f);
    QCOMPARE(s.test.labels, (std::vector<std::uint8_t>{5}));
}

void TestData::normalisationConstantChannel()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QDir dir(tmp.path());
    QVERIFY(writeFile(dir.filePath(kTrainImages), idx({2, 1, 2}, QByteArray(4, char(51)))));
    QVERIFY(writeValid(dir, kTrainLabels));
    QVERIFY(writeFile(dir.filePath(kTestImages), idx({1, 1, 2}, bytes({51, 102}))));
    QVERIFY(writeFile(dir.filePath(kTestLabels), idx({1}, bytes({5}))));
    const DatasetSplits s = loadDataset(tmp.path().toStdString());
    QCOMPARE(s.stddev[0], 1.0f);
    for (float v : s.train.images)
        QVERIFY(std::abs(v) < 1e-6f);
    QVERIFY(std::abs(s.test.images[1] - 0.2f) < 1e-6f);
}

void TestData::limits_data()
{
    QTest::addColumn<int>("trainLimit");
    QTest::addColumn<int>("testLimit");
    QTest::addColumn<int>("trainCount");
    QTest::addColumn<int>("testCount");

    QTest::addRow("no limits") << 0 << 0 << 5 << 3;
    QTest::addRow("train 2") << 2 << 0 << 2 << 3;
    QTest::addRow("test 1") << 0 << 1 << 5 << 1;
    QTest::addRow("both") << 4 << 2 << 4 << 2;
    QTest::addRow("limits above the counts") << 100 << 100 << 5 << 3;
    QTest::addRow("limits equal to the counts") << 5 << 3 << 5 << 3;
}

void TestData::limits()
{
    QFETCH(int, trainLimit);
    QFETCH(int, testLimit);
    QFETCH(int, trainCount);
    QFETCH(int, testCount);

    for (const bool cifar : {false, true}) {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QDir dir(tmp.path());
        if (cifar) {
            // Records spread over two training batches so a limit can end inside the second one.
            QVERIFY(writeFile(dir.filePath("data_batch_1.bin"), cifarBatch(0, 3)));
            QVERIFY(writeFile(dir.filePath("data_batch_2.bin"), cifarBatch(3, 2)));
            QVERIFY(writeFile(dir.filePath("test_batch.bin"), cifarBatch(5, 3)));
        } else {
            QVERIFY(writeFile(dir.filePath(kTrainImages), idx({5, 1, 1}, bytes({0, 1, 2, 3, 4}))));
            QVERIFY(writeFile(dir.filePath(kTrainLabels), idx({5}, bytes({0, 1, 2, 3, 4}))));
            QVERIFY(writeFile(dir.filePath(kTestImages), idx({3, 1, 1}, bytes({5, 6, 7}))));
            QVERIFY(writeFile(dir.filePath(kTestLabels), idx({3}, bytes({5, 6, 7}))));
        }
        const DatasetSplits s = loadDataset(tmp.path().toStdString(), DatasetKind::Auto, trainLimit, testLimit);
        QCOMPARE(s.train.count, trainCount);
        QCOMPARE(s.test.count, testCount);
        QCOMPARE(int(s.train.images.size()), trainCount * int(s.train.sampleSize()));
        QCOMPARE(int(s.test.images.size()), testCount * int(s.test.sampleSize()));
        // The first samples are the ones kept (labels count up from 0 in both layouts).
        for (int i = 0; i < trainCount; ++i)
            QCOMPARE(int(s.train.labels[std::size_t(i)]), i);
        for (int i = 0; i < testCount; ++i)
            QCOMPARE(int(s.test.labels[std::size_t(i)]), 5 + i);
    }
}

void TestData::parseKind_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("kind"); // -1: must be rejected

    QTest::addRow("auto") << "auto" << int(DatasetKind::Auto);
    QTest::addRow("idx") << "idx" << int(DatasetKind::Idx);
    QTest::addRow("cifar10") << "cifar10" << int(DatasetKind::Cifar10);
    QTest::addRow("empty") << "" << -1;
    QTest::addRow("CIFAR-10") << "CIFAR-10" << -1;
    QTest::addRow("mnist") << "mnist" << -1;
}

void TestData::parseKind()
{
    QFETCH(QString, text);
    QFETCH(int, kind);
    if (kind >= 0) {
        QCOMPARE(int(parseDatasetKind(text.toStdString())), kind);
        return;
    }
    const QString message = errorFrom([&] { parseDatasetKind(text.toStdString()); });
    VERIFY_MENTIONS(message, (QStringList{"--dataset-kind", "'" + text + "'", "cifar10"}));
}

void TestData::defaultDir()
{
    const QByteArray saved = qgetenv("SQ_DEFAULT_DATASET");
    const bool wasSet = qEnvironmentVariableIsSet("SQ_DEFAULT_DATASET");
    qunsetenv("SQ_DEFAULT_DATASET");
    QCOMPARE(QString::fromStdString(defaultDatasetDir()), QString(kFashionDir));
    qputenv("SQ_DEFAULT_DATASET", "/data/cifar");
    QCOMPARE(QString::fromStdString(defaultDatasetDir()), QString("/data/cifar"));
    qputenv("SQ_DEFAULT_DATASET", "");
    QCOMPARE(QString::fromStdString(defaultDatasetDir()), QString(kFashionDir));
    if (wasSet)
        qputenv("SQ_DEFAULT_DATASET", saved);
    else
        qunsetenv("SQ_DEFAULT_DATASET");
}

void TestData::batchesCoverEachSampleOnce_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("batchSize");
    QTest::addColumn<bool>("shuffle");

    QTest::addRow("10 in batches of 3, shuffled") << 10 << 3 << true;
    QTest::addRow("10 in batches of 5, shuffled") << 10 << 5 << true;
    QTest::addRow("10 in one oversized batch of 16") << 10 << 16 << true;
    QTest::addRow("7 in batches of 1") << 7 << 1 << true;
    QTest::addRow("1 sample") << 1 << 4 << true;
    QTest::addRow("100 in batches of 32, file order") << 100 << 32 << false;
    QTest::addRow("257 in batches of 64, shuffled") << 257 << 64 << true;
}

void TestData::batchesCoverEachSampleOnce()
{
    QFETCH(int, count);
    QFETCH(int, batchSize);
    QFETCH(bool, shuffle);

    const Dataset data = indexDataset(count, 2, 2, 1);
    BatchIterator it(data, batchSize, 42, shuffle);
    const int batches = (count + batchSize - 1) / batchSize;
    QCOMPARE(it.batchesPerEpoch(), batches);
    for (int epoch : {0, 1, 5}) {
        it.startEpoch(epoch);
        QCOMPARE(it.epoch(), epoch);
        std::vector<int> seen;
        Tensor images;
        std::vector<int> labels;
        int batch = 0;
        while (it.next(images, labels)) {
            ++batch;
            QCOMPARE(it.position(), batch);
            const int expectedSize = batch < batches ? batchSize : count - (batches - 1) * batchSize;
            QCOMPARE(images.shape(), (std::vector<int>{expectedSize, 2, 2, 1}));
            QCOMPARE(int(labels.size()), expectedSize);
            for (int b = 0; b < expectedSize; ++b) {
                const int n = int(images[std::size_t(b) * 4]) / 1000;
                for (int k = 0; k < 4; ++k)
                    QCOMPARE(images[std::size_t(b * 4 + k)], float(n * 1000 + k));
                QCOMPARE(labels[std::size_t(b)], n % 10);
                seen.push_back(n);
            }
        }
        QCOMPARE(batch, batches);
        if (!shuffle)
            for (int i = 0; i < count; ++i)
                QCOMPARE(seen[std::size_t(i)], i);
        std::sort(seen.begin(), seen.end());
        for (int i = 0; i < count; ++i)
            QCOMPARE(seen[std::size_t(i)], i);
        QCOMPARE(int(seen.size()), count);
    }
}

void TestData::batchOrderReproducible()
{
    const Dataset data = indexDataset(50);
    BatchIterator a(data, 8, 1234, true);
    BatchIterator b(data, 8, 1234, true);
    std::vector<std::vector<int>> aOrders;
    for (int epoch = 0; epoch < 4; ++epoch) {
        aOrders.push_back(epochOrder(a, epoch));
        QCOMPARE(epochOrder(b, epoch), aOrders.back());
    }
    // A resumed session jumps straight to epoch 3, and back to 1, without replaying anything.
    BatchIterator resumed(data, 8, 1234, true);
    QCOMPARE(epochOrder(resumed, 3), aOrders[3]);
    QCOMPARE(epochOrder(resumed, 1), aOrders[1]);
    // The order does not depend on the batch size either: only on (seed, epoch).
    BatchIterator other(data, 7, 1234, true);
    QCOMPARE(epochOrder(other, 2), aOrders[2]);
}

void TestData::batchOrderVariesWithEpochAndSeed()
{
    const Dataset data = indexDataset(50);
    BatchIterator it(data, 8, 7, true);
    std::set<std::vector<int>> orders;
    for (int epoch = 0; epoch < 6; ++epoch)
        orders.insert(epochOrder(it, epoch));
    QCOMPARE(int(orders.size()), 6);

    // Other seeds, including neighbours of (seed, epoch) that a plain seed + epoch would confuse.
    BatchIterator s8(data, 8, 8, true);
    BatchIterator s6(data, 8, 6, true);
    QVERIFY(epochOrder(s8, 0) != epochOrder(it, 0));
    QVERIFY(epochOrder(s8, 0) != epochOrder(it, 1));
    QVERIFY(epochOrder(s6, 1) != epochOrder(it, 0));

    BatchIterator plain(data, 8, 7, false);
    std::vector<int> identity(50);
    std::iota(identity.begin(), identity.end(), 0);
    QCOMPARE(epochOrder(plain, 3), identity);
    QVERIFY(epochOrder(it, 0) != identity);
}

void TestData::lastPartialBatch()
{
    const Dataset data = indexDataset(10, 1, 2, 3);
    BatchIterator it(data, 4, 99, true);
    QCOMPARE(it.batchesPerEpoch(), 3);
    Tensor images;
    std::vector<int> labels;
    QVERIFY(it.next(images, labels));
    QCOMPARE(images.shape(), (std::vector<int>{4, 1, 2, 3}));
    QVERIFY(it.next(images, labels));
    QVERIFY(it.next(images, labels));
    QCOMPARE(images.shape(), (std::vector<int>{2, 1, 2, 3}));
    QCOMPARE(images.size(), std::size_t(12));
    QCOMPARE(int(labels.size()), 2);
    const std::vector<int> lastShape = images.shape();
    const std::vector<int> lastLabels = labels;
    QVERIFY(!it.next(images, labels));
    QVERIFY(!it.next(images, labels));
    QCOMPARE(images.shape(), lastShape);
    QCOMPARE(labels, lastLabels);
    QCOMPARE(it.position(), 3);
}

void TestData::seekMatchesIteration()
{
    const Dataset data = indexDataset(23, 1, 1, 2);
    BatchIterator reference(data, 5, 2024, true);
    reference.startEpoch(2);
    std::vector<std::vector<float>> batches;
    std::vector<std::vector<int>> batchLabels;
    Tensor images;
    std::vector<int> labels;
    while (reference.next(images, labels)) {
        batches.emplace_back(images.data(), images.data() + images.size());
        batchLabels.push_back(labels);
    }
    QCOMPARE(int(batches.size()), 5);

    for (int k = 0; k < 5; ++k) {
        BatchIterator it(data, 5, 2024, true);
        it.startEpoch(2);
        it.seek(k);
        QCOMPARE(it.position(), k);
        for (int j = k; j < 5; ++j) {
            QVERIFY(it.next(images, labels));
            QCOMPARE(std::vector<float>(images.data(), images.data() + images.size()), batches[std::size_t(j)]);
            QCOMPARE(labels, batchLabels[std::size_t(j)]);
        }
        QVERIFY(!it.next(images, labels));
    }
    // Seeking backwards within an epoch replays, and seeking to the end finishes it.
    BatchIterator it(data, 5, 2024, true);
    it.startEpoch(2);
    it.seek(4);
    QVERIFY(it.next(images, labels));
    it.seek(1);
    QVERIFY(it.next(images, labels));
    QCOMPARE(std::vector<float>(images.data(), images.data() + images.size()), batches[1]);
    it.seek(5);
    QVERIFY(!it.next(images, labels));
}

void TestData::batchIteratorRejectsBadArguments()
{
    const Dataset data = indexDataset(10);
    QVERIFY(errorFrom([&] { BatchIterator(data, 0, 1, true); }).contains("batch size"));
    QVERIFY(errorFrom([&] { BatchIterator(data, -3, 1, true); }).contains("batch size"));
    BatchIterator it(data, 4, 1, true);
    VERIFY_MENTIONS(errorFrom([&] { it.seek(4); }), (QStringList{"batch index 4", "out of range", "3 batches"}));
    VERIFY_MENTIONS(errorFrom([&] { it.seek(-1); }), (QStringList{"batch index -1", "out of range"}));
    VERIFY_MENTIONS(errorFrom([&] { it.startEpoch(-1); }), (QStringList{"epoch", "-1"}));
    Dataset broken = data;
    broken.labels.pop_back();
    VERIFY_MENTIONS(errorFrom([&] { BatchIterator(broken, 4, 1, true); }),
                    (QStringList{"index", "inconsistent"}));
}

void TestData::hugeBatchSize()
{
    // A batch size near INT_MAX must neither overflow the batch count nor allocate for it.
    const Dataset data = indexDataset(5);
    BatchIterator it(data, std::numeric_limits<int>::max(), 3, true);
    QCOMPARE(it.batchesPerEpoch(), 1);
    Tensor images;
    std::vector<int> labels;
    QVERIFY(it.next(images, labels));
    QCOMPARE(images.dim(0), 5);
    QVERIFY(!it.next(images, labels));
}

void TestData::fashionMnist()
{
    if (!QFileInfo(kFashionDir).isDir())
        QSKIP("Fashion-MNIST is not installed: 'apt-get install dataset-fashion-mnist' puts it in "
              "/usr/share/datasets/fashion-mnist");
    const DatasetSplits s = loadDataset(kFashionDir, DatasetKind::Auto, 0, 100);
    QCOMPARE(s.train.count, 60000);
    QCOMPARE(s.test.count, 100);
    QCOMPARE(s.train.sampleShape(), (std::vector<int>{1, 28, 28}));
    QCOMPARE(s.test.sampleShape(), (std::vector<int>{1, 28, 28}));
    QCOMPARE(s.train.classes, 10);
    QCOMPARE(QString::fromStdString(s.train.name), QString("fashion-mnist train"));
    QCOMPARE(int(s.train.images.size()), 60000 * 784);
    QCOMPARE(int(s.test.labels.size()), 100);
    // Fashion-MNIST is balanced: 6000 training images per class.
    std::vector<int> perClass(10, 0);
    for (std::uint8_t label : s.train.labels)
        ++perClass[label];
    for (int n : perClass)
        QCOMPARE(n, 6000);
    // Its well-known pixel statistics: mean 0.2860, std 0.3530.
    QVERIFY2(std::abs(s.mean[0] - 0.2860f) < 0.001f, qPrintable(QString::number(s.mean[0])));
    QVERIFY2(std::abs(s.stddev[0] - 0.3530f) < 0.001f, qPrintable(QString::number(s.stddev[0])));
    const auto [mean, stddev] = channelMoments(s.train, 0);
    QVERIFY(std::abs(mean) < 1e-3);
    QVERIFY(std::abs(stddev - 1.0) < 1e-3);
}

QTEST_GUILESS_MAIN(TestData)
#include "test_data.moc"

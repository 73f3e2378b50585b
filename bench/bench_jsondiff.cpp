// Figures for the Compare panes: compareJson() and the whole formatComparison() (both panes
// formatted, differences aligned and placed) of the largest demo Foo against itself and against
// edited copies. The budget is one second for panes and diff together. Prints; asserts
// nothing.
#include "db/database.h"
#include "db/seeder.h"
#include "json/jsoncompare.h"
#include "json/jsonformat.h"
#include "serialize/serializer.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

namespace {

template <typename Work> std::pair<double, double> medianAndMinMs(int repeat, Work work)
{
    std::vector<double> samples;
    for (int i = 0; i < repeat; ++i) {
        QElapsedTimer timer;
        timer.start();
        work();
        samples.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    std::sort(samples.begin(), samples.end());
    return { samples[samples.size() / 2], samples.front() };
}

JsonValue &child(JsonValue &object, const char *key)
{
    return object.items[object.keys.indexOf(QByteArray(key))];
}

// Every "name" value of the tree, in document order.
void collectNames(JsonValue &value, QList<JsonValue *> &names)
{
    for (qsizetype i = 0; i < value.items.size(); ++i) {
        if (value.isObject() && value.keys.at(i) == "name" && value.items.at(i).isString())
            names.append(&value.items[i]);
        else
            collectNames(value.items[i], names);
    }
}

// Every object's keys in reverse order, as a store that sorts keys might give them back.
void reverseKeys(JsonValue &value)
{
    for (JsonValue &item : value.items)
        reverseKeys(item);
    if (value.isObject()) {
        std::reverse(value.keys.begin(), value.keys.end());
        std::reverse(value.items.begin(), value.items.end());
    }
}

struct Case {
    const char *name;
    std::function<void(JsonValue &)> edit;
};

QList<Case> cases()
{
    return {
        { "identical", [](JsonValue &) {} },
        { "one Bar inserted in the middle",
            [](JsonValue &foo) {
                QList<JsonValue> &bars = child(foo, "bar_set").items;
                JsonValue bar = bars.at(bars.size() / 2);
                child(bar, "name").text = "inserted bar";
                bars.insert(bars.size() / 2, bar);
            } },
        { "first Bar removed", [](JsonValue &foo) { child(foo, "bar_set").items.removeFirst(); } },
        { "one Baz renamed",
            [](JsonValue &foo) {
                QList<JsonValue *> names;
                collectNames(foo, names);
                names.at(names.size() * 2 / 3)->text = "renamed baz";
            } },
        { "1% of names changed",
            [](JsonValue &foo) {
                QList<JsonValue *> names;
                collectNames(foo, names);
                for (qsizetype i = 7; i < names.size(); i += 100)
                    names.at(i)->text += " (changed)";
            } },
        { "key order only (every object)", reverseKeys },
        { "Bar order reversed",
            [](JsonValue &foo) {
                QList<JsonValue> &bars = child(foo, "bar_set").items;
                std::reverse(bars.begin(), bars.end());
            } },
    };
}

QByteArray largestBody(const QString &path, const QString &scale)
{
    const auto summary = Seeder::write(path, *Seeder::scale(scale), QStringLiteral("api"));
    if (!summary)
        qFatal("cannot seed: %s", qPrintable(summary.error().message));
    auto database = Database::open(*DatabaseConfig::parse(path));
    if (!database)
        qFatal("%s", qPrintable(database.error().message));
    Serializer serializer(**database);
    QByteArray largest;
    const auto ids = (*database)->fooIds();
    for (const qint64 pk : *ids) {
        auto body = serializer.foo(pk);
        if (body && body->size() > largest.size())
            largest = *body;
    }
    return largest;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Times compareJson and formatComparison on the largest demo Foo."));
    parser.addHelpOption();
    const QCommandLineOption scale(QStringLiteral("scale"), QStringLiteral("Seed scale (default medium)."),
        QStringLiteral("scale"), QStringLiteral("medium"));
    const QCommandLineOption repeat(QStringLiteral("repeat"), QStringLiteral("Runs per case (default 7)."),
        QStringLiteral("count"), QStringLiteral("7"));
    parser.addOptions({ scale, repeat });
    parser.process(app);
    const int runs = qMax(1, parser.value(repeat).toInt());

    QTemporaryDir dir;
    const QByteArray body = largestBody(dir.filePath(QStringLiteral("bench.sqlite3")), parser.value(scale));
    const JsonValue original = *parseJson(body);
    std::printf("largest Foo of %s: %.2f MB; median / min of %d runs\n", qPrintable(parser.value(scale)),
        double(body.size()) / 1e6, runs);
    std::printf("  %-32s %12s %12s %12s %s\n", "case", "compareJson", "formatComp.", "(min)", "differences");
    for (const Case &entry : cases()) {
        JsonValue edited = *parseJson(body); // a separate parse, as the panes get
        entry.edit(edited);
        JsonComparison comparison;
        const auto compared = medianAndMinMs(runs, [&] { comparison = compareJson(original, edited); });
        FormattedComparison formatted;
        const auto whole = medianAndMinMs(runs, [&] { formatted = formatComparison(original, edited); });
        std::printf("  %-32s %9.2f ms %9.2f ms %9.2f ms %lld (%s)\n", entry.name, compared.first, whole.first,
            whole.second, qlonglong(comparison.differences.size()), qPrintable(comparison.summary()));
        if (!formatted.differences.isEmpty())
            std::printf("  %-32s first: %s\n", "", qPrintable(formatted.differences.first().text.left(100)));
    }
    return 0;
}

#pragma once

#include "core/result.h"
#include "db/database.h"
#include "serialize/idordinals.h"

#include <QByteArray>
#include <QList>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

class Statement;

// The live serialization of Foos, byte for byte what Django REST Framework's JSONRenderer sends for
//   FooSerializer(name, bar_set=BarSerializer(name, zab_set=ZabSerializer(name, bazs=BazSerializer(name))))
// with children ordered by primary key. Bytes are written directly (no JSON DOM: Qt's would reorder keys
// and cost a copy).
//
// Foos are read in runs: up to runLength Foos whose pks lie close together share one set of at
// most five queries (the Foos, their Bars, their Zabs, the Zab→Baz links, the Bazs not yet known),
// whatever their number and size. The rows are kept for the run, then each Foo is written from them.
// Where a run's Bar ids (or Zab ids) are dense, as rows written together are, their children are
// read by one scan of the child table's index over that id range, the rows of other parents in the
// range skipped; elsewhere they are joined from the Foos. Either way the bytes are the same.
// Not thread-safe: one Serializer per Database, on that Database's thread.
class Serializer {
public:
    // Bumped whenever the output's shape or bytes change, so that caches built by an older
    // version are never taken for fresh.
    static constexpr int version = 1;

    // Up to fewBazs Bazs are looked up with one statement bound id by id; more with one array.
    static constexpr int fewBazs = 8;
    // The most Foos one run reads together.
    static constexpr int runLength = 32;

    // The statements, each bound as its comment says. Public so the bench can time the engine
    // alone on the very same statements.
    enum Query {
        Foos,         // (low Foo pk, high): id, name
        Bars,         // (low Foo pk, high): foo_id, id, name
        ZabsInRange,  // (low Bar id, high): bar_id, id, name
        ZabsOfFoos,   // (low Foo pk, high): bar_id, id, name, joined through the Bars
        LinksInRange, // (low Zab id, high): zab_id, baz_id
        LinksOfFoos,  // (low Foo pk, high): zab_id, baz_id, joined through the Bars and Zabs
        BazArray,     // (ids as one array value): id, name
        FewBazs,      // (fewBazs ids, the spare places repeating the last): id, name
        QueryCount
    };
    static std::array<QString, QueryCount> queries(const Database &database);
    // Are `count` distinct ids from `low` to `high` dense enough that a scan over the range, which
    // also meets the ids between them, beats a seek per id?
    static bool denseIds(qsizetype count, qint64 low, qint64 high)
    {
        // Unsigned: the span of two far ids does not fit in a qint64.
        return count > 0 && low <= high && quint64(high) - quint64(low) < 2 * quint64(count) + 64;
    }
    // The end of the run that starts at pks[start]: pks ascending, at most runLength of them, and
    // few pks between them that were not asked for (their Foos are read in vain).
    static qsizetype runEnd(const QList<qint64> &pks, qsizetype start);

    explicit Serializer(Database &database);
    ~Serializer();

    // The detail body for one Foo; Error::Kind::NotFound for an unknown pk.
    Result<QByteArray> foo(qint64 pk);
    // The detail bodies of `pks`, one result each, in their order, from one snapshot. Ascending pks
    // close together (as jobs and pages post them) are read in runs. When a run fails, its Foos are
    // read one by one, so that only the failing Foo fails; the answers then end with that Foo's
    // (the connection may be broken): the caller asks again for the rest. An unknown pk is
    // Error::Kind::NotFound and does not end them.
    std::vector<Result<QByteArray>> foos(const QList<qint64> &pks);
    // The list body: every Foo by primary key, `[` items joined by `,` `]`, from one snapshot.
    Result<QByteArray> list();
    // Appends the detail body of `pk` to `out`; on failure `out` is left as it was.
    Status appendFoo(QByteArray &out, qint64 pk);

    // While one lives, the Foos serialized share their Bazs' names, as list()'s Foos do: each Baz is
    // looked up once, not once per Foo. The caller holds one ReadSnapshot around it, so that no
    // Baz renamed in between is written with its old name.
    //
    // WhileUnchanged keeps the names for the next SharedBazs too, in the next snapshot, as long as
    // the database proves that every commit in between wrote only the cache
    // (Database::onlyCacheCommitsBetween: a SQLite rollback-journal file, written meanwhile by
    // this process's cache store alone). Otherwise, and always on PostgreSQL or a WAL file, they
    // are read again. A warm of `large` met 1.9 million Baz lookups for 20,000 Bazs.
    class SharedBazs {
    public:
        enum class Scope { Snapshot, WhileUnchanged };
        explicit SharedBazs(Serializer &serializer, Scope scope = Scope::Snapshot);
        ~SharedBazs();
        SharedBazs(const SharedBazs &) = delete;
        SharedBazs &operator=(const SharedBazs &) = delete;

    private:
        Serializer &m_serializer;
        bool m_outer;
        Scope m_scope;
    };
    // The most Bazs, and bytes of their names, kept from one snapshot to the next: at most about
    // 30 MB per serializer (wide has 50,000 Bazs, 3 MB). Past either, the names are dropped with
    // their memory.
    static constexpr size_t maxKeptBazs = 250000;
    static constexpr qsizetype maxKeptBazBytes = 16 * 1024 * 1024;
    // A list() shares its Bazs' names across its Foos; past this many bytes of them (wide's 50,000
    // take 3 MB) it forgets them between two runs, and a later run reads the names it needs again,
    // in the same snapshot. Without it, a table of tens of millions of Bazs would all be held.
    static constexpr qsizetype defaultListBazBytes = 64 * 1024 * 1024;
    void setListBazBytes(qsizetype bytes) { m_listBazBytes = bytes; } // tests

    // For tests: read children by range scans only, by joins only, or as denseIds() says.
    enum class Plan { Auto, Ranges, Joins };
    void setPlan(Plan plan) { m_plan = plan; }

    // Statements executed so far (tests check that it does not grow with a Foo's size).
    int queryCount() const { return m_queryCount; }
    // Runs whose Zabs and links were read by range scans, and by joins (tests and the bench).
    int rangeReads() const { return m_rangeReads; }
    int joinReads() const { return m_joinReads; }
    // Invalid UTF-8 sequences replaced with U+FFFD so far (see appendJsonString), counted as the
    // names are read: a run's Foos that were not asked for count too.
    int replacedSequences() const { return m_replaced; }
    // Bazs looked up so far (tests: whether names were kept or read again).
    qint64 bazLookups() const { return m_bazLookups; }

private:
    struct Statements;
    // A name in m_text, as the JSON written for it: a string literal, or null.
    struct Text {
        qsizetype offset = 0;
        int length = 0;
    };
    // A row and the span of its children in the next level's rows. Children of a parent are
    // contiguous in every query's order.
    struct Row {
        qint64 id;
        Text name;
        quint32 begin = 0;
        quint32 end = 0;
    };
    // Where a Baz's `{"name":…}` sits in m_bazArena; length -1 while unknown or when it does not exist.
    struct BazJson {
        qsizetype offset = 0;
        int length = -1;
    };

    Status prepare();
    Status loadBazNames();
    void forgetBazs();
    void forgetRun();
    Status readRun(qint64 low, qint64 high);
    Status writeFoo(QByteArray &out, qint64 pk);
    template <typename Sink>
    void emitFoo(const Row &foo, Sink &sink) const;
    Status exec(Statement &statement);
    Text keepName(Statement &statement, int column);
    void appendNameOrNull(QByteArray &out, bool null, QByteArrayView utf8);

    Database &m_database;
    std::unique_ptr<Statements> m_statements;
    Plan m_plan = Plan::Auto;
    // The current run's rows: Foos by pk, then each level's rows grouped by parent.
    std::vector<Row> m_foos;
    std::vector<Row> m_bars;
    std::vector<Row> m_zabs;
    std::vector<int> m_links;        // the linked Baz's ordinal in m_bazOrdinals, per link
    IdOrdinals m_fooIds;             // Foo pk → index in m_foos
    IdOrdinals m_barIds;             // Bar id → index in m_bars
    IdOrdinals m_zabIds;             // Zab id → index in m_zabs
    QByteArray m_text;               // the run's names, as the JSON written for them
    IdOrdinals m_bazOrdinals;        // Baz id → ordinal, for the Bazs of this call
    std::vector<BazJson> m_bazJson;  // by ordinal
    std::vector<qint64> m_newBazIds; // met in the current run, not yet looked up
    QByteArray m_bazArena;
    bool m_sharingBazs = false;
    qsizetype m_listBazBytes = defaultListBazBytes;
    // The snapshot the kept Baz names are known to hold in (SharedBazs::Scope::WhileUnchanged).
    std::optional<Database::ChangeMark> m_bazsMark;
    qint64 m_bazLookups = 0;
    int m_queryCount = 0;
    int m_rangeReads = 0;
    int m_joinReads = 0;
    int m_replaced = 0;
};

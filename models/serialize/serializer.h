#pragma once

#include "core/result.h"
#include "serialize/idordinals.h"

#include <QByteArray>
#include <QList>

#include <array>
#include <functional>
#include <memory>
#include <vector>

class Database;
class Statement;

// The live serialization of Foos, byte for byte what Django REST Framework's JSONRenderer sends for
//   FooSerializer(name, bar_set=BarSerializer(name, zab_set=ZabSerializer(name, bazs=BazSerializer(name))))
// with children ordered by primary key. Bytes are written directly (no JSON DOM: Qt's would reorder keys
// and cost a copy); at most five queries per Foo however big it is, merged in one pass.
// Not thread-safe: one Serializer per Database, on that Database's thread.
class Serializer {
public:
    // Bumped whenever the output's shape or bytes change, so that caches built by an older
    // version are never taken for fresh.
    static constexpr int version = 1;

    // The queries, in order: the Foo, its Bars, its Zabs, its Zab→Baz links (each bound to the
    // Foo's pk), a set of Bazs (bound to an id array) and up to fewBazs Bazs (bound one by one).
    // One Foo runs five of them. Public so the bench can time the engine alone on the very same
    // statements.
    static constexpr int fewBazs = 8;
    static std::array<QString, 6> queries(const Database &database);

    explicit Serializer(Database &database);
    ~Serializer();

    // The detail body for one Foo; Error::Kind::NotFound for an unknown pk.
    Result<QByteArray> foo(qint64 pk);
    // The list body: every Foo by primary key, `[` items joined by `,` `]`, from one snapshot.
    Result<QByteArray> list();
    // Appends the detail body of `pk` to `out`; on failure `out` is left as it was.
    Status appendFoo(QByteArray &out, qint64 pk);

    // While one lives, the Foos serialized share their Bazs' names, as list()'s Foos do: each Baz is
    // looked up once, not once per Foo. The caller holds one ReadSnapshot around it, so that no
    // Baz renamed in between is written with its old name.
    class SharedBazs {
    public:
        explicit SharedBazs(Serializer &serializer);
        ~SharedBazs();
        SharedBazs(const SharedBazs &) = delete;
        SharedBazs &operator=(const SharedBazs &) = delete;

    private:
        Serializer &m_serializer;
        bool m_outer;
    };

    // Statements executed so far (tests check that it does not grow with a Foo's size).
    int queryCount() const { return m_queryCount; }
    // Invalid UTF-8 sequences replaced with U+FFFD so far (see appendJsonString).
    int replacedSequences() const { return m_replaced; }

private:
    struct Statements;
    // Rows of the child queries carry their ancestors' ids in output order, so the merge can tell a
    // row that belongs further on from one that belongs to the current parent.
    struct Position {
        qint64 bar;
        qint64 zab;
        auto operator<=>(const Position &) const = default;
    };
    struct Link {
        Position position;
        int baz; // ordinal in m_bazOrdinals
    };
    // Where a Baz's `{"name":…}` sits in m_bazArena; length -1 while unknown or when it does not exist.
    struct BazJson {
        qsizetype offset = 0;
        int length = -1;
    };

    Status prepare();
    Status loadBazNames();
    void forgetBazs();
    Status writeFoo(QByteArray &out, qint64 pk);
    Status runQuery(Statement &statement, qint64 pk);
    void appendName(QByteArray &out, Statement &statement, int column);

    Database &m_database;
    std::unique_ptr<Statements> m_statements;
    std::vector<Link> m_links;
    IdOrdinals m_bazOrdinals;        // Baz id → ordinal, for the Bazs of this call
    std::vector<BazJson> m_bazJson;  // by ordinal
    std::vector<qint64> m_newBazIds; // met in the current Foo, not yet looked up
    QByteArray m_bazArena;
    bool m_sharingBazs = false;
    int m_queryCount = 0;
    int m_replaced = 0;
};

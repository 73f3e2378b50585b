#pragma once

#include <QString>

#include <utility>
#include <variant>

// What went wrong, in words an operator can act on. `models/` never shows UI: functions that can fail
// return a Result and the caller decides between a status bar, a dialog, stderr or an HTTP body.
struct Error {
    enum class Kind { Invalid, NotFound, Database, Io, Corrupt, Unavailable, Cancelled };
    Kind kind = Kind::Invalid;
    QString message;

    static Error invalid(QString text) { return { Kind::Invalid, std::move(text) }; }
    static Error notFound(QString text) { return { Kind::NotFound, std::move(text) }; }
    static Error database(QString text) { return { Kind::Database, std::move(text) }; }
    static Error io(QString text) { return { Kind::Io, std::move(text) }; }
    static Error corrupt(QString text) { return { Kind::Corrupt, std::move(text) }; }
    static Error unavailable(QString text) { return { Kind::Unavailable, std::move(text) }; }
    static Error cancelled(QString text) { return { Kind::Cancelled, std::move(text) }; }
};

// A value or an Error; a small stand-in for C++23's std::expected.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value)
        : m_state(std::in_place_index<0>, std::move(value))
    {
    }
    Result(Error error)
        : m_state(std::in_place_index<1>, std::move(error))
    {
    }

    bool ok() const { return m_state.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(m_state); }
    const T &value() const & { return std::get<0>(m_state); }
    T &&value() && { return std::get<0>(std::move(m_state)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }
    // By value from a temporary, so `for (x : *f())` does not walk a destroyed Result.
    T operator*() && { return std::move(value()); }

    const Error &error() const { return std::get<1>(m_state); }

private:
    std::variant<T, Error> m_state;
};

// For operations that return nothing but may fail.
struct Done {
};
using Status = Result<Done>;
inline Status success() { return Done {}; }

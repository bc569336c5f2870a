#pragma once
// Result<T>: a value or a Diagnostic. Errors are values at every boundary that reads
// user input; exceptions are kept for bugs and the single top-level catch in main.

#include "clusterctl/util/diagnostic.hpp"

#include <cassert>
#include <utility>
#include <variant>

namespace clusterctl::util {

// A Result's error on its way in (as std::unexpected): util::fail(diagnostic).
template <typename E> struct Unexpected { E error; };

inline Unexpected<Diagnostic> fail(Diagnostic d) {
    return {std::move(d)};
}

template <typename T, typename E = Diagnostic> class [[nodiscard]] Result {
public:
    Result(T value) : m_state(std::in_place_index<0>, std::move(value)) {}
    Result(Unexpected<E> failure) : m_state(std::in_place_index<1>, std::move(failure.error)) {}

    bool ok() const { return m_state.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(m_state); }
    const T& value() const& { return std::get<0>(m_state); }
    T&& value() && { return std::get<0>(std::move(m_state)); }
    const E& error() const { return std::get<1>(m_state); }

    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

private:
    std::variant<T, E> m_state;
};

// For operations that produce nothing but can fail.
struct Ok {};
using Status = Result<Ok>;

} // namespace clusterctl::util

#include "seal.h"

#include <QtEndian>

namespace {

constexpr quint64 p1 = 0x9E3779B185EBCA87ULL, p2 = 0xC2B2AE3D27D4EB4FULL, p3 = 0x165667B19E3779F9ULL,
                  p4 = 0x85EBCA77C2B2AE63ULL, p5 = 0x27D4EB2F165667C5ULL;
inline quint64 rotl(quint64 x, int r) { return (x << r) | (x >> (64 - r)); }
inline quint64 round(quint64 acc, quint64 input) { return rotl(acc + input * p2, 31) * p1; }
inline quint64 merge(quint64 acc, quint64 value) { return (acc ^ round(0, value)) * p1 + p4; }

} // namespace

quint64 seal64(QByteArrayView bytes, quint64 seed)
{
    const auto *p = reinterpret_cast<const uchar *>(bytes.data());
    const uchar *const end = p + bytes.size();
    quint64 h;
    if (bytes.size() >= 32) {
        quint64 v1 = seed + p1 + p2, v2 = seed + p2, v3 = seed, v4 = seed - p1;
        do {
            v1 = round(v1, qFromLittleEndian<quint64>(p));
            v2 = round(v2, qFromLittleEndian<quint64>(p + 8));
            v3 = round(v3, qFromLittleEndian<quint64>(p + 16));
            v4 = round(v4, qFromLittleEndian<quint64>(p + 24));
            p += 32;
        } while (end - p >= 32);
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = merge(merge(merge(merge(h, v1), v2), v3), v4);
    } else {
        h = seed + p5;
    }
    h += quint64(bytes.size());
    for (; end - p >= 8; p += 8)
        h = rotl(h ^ round(0, qFromLittleEndian<quint64>(p)), 27) * p1 + p4;
    if (end - p >= 4) {
        h = rotl(h ^ (quint64(qFromLittleEndian<quint32>(p)) * p1), 23) * p2 + p3;
        p += 4;
    }
    for (; p < end; ++p)
        h = rotl(h ^ (*p * p5), 11) * p1;
    h = (h ^ (h >> 33)) * p2;
    h = (h ^ (h >> 29)) * p3;
    return h ^ (h >> 32);
}

#pragma once

#include <QByteArray>
#include <QByteArrayView>

// Appends `utf8` as a JSON string literal exactly as Django REST Framework's JSONRenderer writes it
// (Python's json.dumps with ensure_ascii=False, then U+2028/U+2029 escaped):
// - `"` `\` and the control characters \b \f \n \r \t get their short escapes,
// - other characters below U+0020 become \u00XX with lowercase hex (NUL is \u0000),
// - U+2028 and U+2029 become \u2028 and \u2029,
// - everything else, DEL, `/`, `<` and all other non-ASCII included, is copied as raw UTF-8.
// Invalid UTF-8 (only SQLite can hold it; DRF itself fails on such a row) is replaced with U+FFFD,
// one per maximal ill-formed subsequence as Unicode and Python's "replace" decoder do, so the output
// is always valid JSON. Returns how many replacements were made.
int appendJsonString(QByteArray &out, QByteArrayView utf8);

// Length of the well-formed UTF-8 sequence starting at `p` (at most `available` bytes, at least 1,
// `p[0]` >= 0x80), or, when it is ill-formed, minus the length of its maximal ill-formed prefix
// (Unicode 15, table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
qsizetype utf8SequenceLength(const unsigned char *p, qsizetype available);

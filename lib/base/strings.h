#pragma once
// Small string helpers used across the project.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coroot {

std::string Trim(std::string_view s);
std::string ToLower(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// Splits on every occurrence of sep (empty fields kept).
std::vector<std::string> Split(std::string_view s, char sep);
// Walks text line by line without copying: *line = the next line (without its '\n'), *pos moves
// past it; false at the end. Usage: for (size_t pos = 0; NextLine(text, &pos, &line);) ...
bool NextLine(std::string_view text, size_t* pos, std::string_view* line);
// Splits on runs of any of the given characters (empty fields dropped).
std::vector<std::string> SplitAny(std::string_view s, std::string_view seps);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// Parses an unsigned decimal prefix; returns false when there is no digit or it overflows.
bool ParseUint64(std::string_view s, uint64_t* out);
std::string HexEncode(std::string_view bytes);
// Escapes a string for inclusion in a JSON document (without the quotes).
std::string JsonEscape(std::string_view s);

}  // namespace coroot

//===- JsonText.h - strings inside the JSON the trainer writes --*- C++ -*-===//

#ifndef DLC_LIB_RUNTIME_JSONTEXT_H
#define DLC_LIB_RUNTIME_JSONTEXT_H

#include <cstdio>
#include <string>

namespace dlc::rt {

/// `text` inside a JSON string: quotes, backslashes and control bytes
/// escaped.
inline std::string jsonEscaped(const char *text) {
  std::string out;
  for (const char *c = text; *c; ++c) {
    if (*c == '"' || *c == '\\') {
      out += '\\';
      out += *c;
    } else if (static_cast<unsigned char>(*c) < 0x20) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", *c);
      out += code;
    } else {
      out += *c;
    }
  }
  return out;
}

} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_JSONTEXT_H

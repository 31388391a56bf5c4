#include "npz.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include "error.hpp"
#include "le.hpp"
#include "tokens.hpp"

namespace secagg::npz {
namespace {

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr size_t kLocalLen = 30, kCentralLen = 46, kEndLen = 22;
constexpr uint16_t kStored = 0, kDeflated = 8;

struct Entry {
  std::string name;
  uint16_t flags = 0, method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, offset = 0;
};

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
  throw Error(Exit::data, fmt::format("{}: {}", origin, what));
}

// The end-of-central-directory record: the last 22 bytes, or earlier if the archive has a
// comment (at most 65535 bytes).
size_t find_end(std::span<const uint8_t> b, const std::string& origin) {
  if (b.size() < kEndLen) bad(origin, ".npz file truncated: no zip end record");
  size_t lowest = b.size() - kEndLen > 65535 ? b.size() - kEndLen - 65535 : 0;
  for (size_t i = b.size() - kEndLen + 1; i-- > lowest;)
    if (le::get32(b.data() + i) == kEndSig && i + kEndLen + le::get16(b.data() + i + 20) == b.size()) return i;
  bad(origin, ".npz file truncated or not a zip archive: no zip end record");
}

// ZIP64 extended information (APPNOTE 4.5.3): the 64-bit values of exactly those fields
// whose 32-bit field is 0xFFFFFFFF, in this order.
void read_zip64(std::span<const uint8_t> extra, Entry& e, bool u64, bool c64, bool o64, const std::string& where) {
  size_t i = 0;
  while (i + 4 <= extra.size()) {
    uint16_t id = le::get16(extra.data() + i), len = le::get16(extra.data() + i + 2);
    if (i + 4 + len > extra.size()) break;
    if (id == 0x0001) {
      const uint8_t* p = extra.data() + i + 4;
      size_t need = 8 * (size_t(u64) + size_t(c64) + size_t(o64));
      if (len < need) bad(where, "ZIP64 extra field too short");
      if (u64) e.usize = le::get64(p), p += 8;
      if (c64) e.csize = le::get64(p), p += 8;
      if (o64) e.offset = le::get64(p);
      return;
    }
    i += 4 + len;
  }
  if (u64 || c64 || o64) bad(where, "sizes are 0xFFFFFFFF but there is no ZIP64 extra field");
}

std::vector<Entry> directory(std::span<const uint8_t> b, const std::string& origin) {
  size_t end = find_end(b, origin);
  const uint8_t* e = b.data() + end;
  uint16_t disk = le::get16(e + 4), cd_disk = le::get16(e + 6), n_disk = le::get16(e + 8), n = le::get16(e + 10);
  uint32_t cd_size = le::get32(e + 12), cd_offset = le::get32(e + 16);
  if (n == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF)
    bad(origin, ".npz archive needs ZIP64 for its directory (over 65535 arrays or 4 GiB), which is not supported");
  if (disk != 0 || cd_disk != 0 || n_disk != n) bad(origin, ".npz archive spans several disks");
  if (uint64_t(cd_offset) + cd_size > end) bad(origin, ".npz zip directory lies outside the file");
  std::vector<Entry> out;
  size_t i = cd_offset, stop = size_t(cd_offset) + cd_size;
  for (uint16_t k = 0; k < n; ++k) {
    if (stop - i < kCentralLen || le::get32(b.data() + i) != kCentralSig)
      bad(origin, fmt::format(".npz zip directory entry {} is malformed", k));
    const uint8_t* c = b.data() + i;
    Entry en;
    en.flags = le::get16(c + 8);
    en.method = le::get16(c + 10);
    en.crc = le::get32(c + 16);
    en.csize = le::get32(c + 20);
    en.usize = le::get32(c + 24);
    size_t name_len = le::get16(c + 28), extra_len = le::get16(c + 30), comment_len = le::get16(c + 32);
    en.offset = le::get32(c + 42);
    if (stop - i - kCentralLen < name_len + extra_len + comment_len)
      bad(origin, fmt::format(".npz zip directory entry {} is truncated", k));
    en.name.assign(reinterpret_cast<const char*>(c + kCentralLen), name_len);
    std::string where = fmt::format("{}: member '{}'", origin, printable(en.name));
    read_zip64({c + kCentralLen + name_len, extra_len}, en, en.usize == 0xFFFFFFFF, en.csize == 0xFFFFFFFF,
               en.offset == 0xFFFFFFFF, where);
    out.push_back(std::move(en));
    i += kCentralLen + name_len + extra_len + comment_len;
  }
  return out;
}

// The member's bytes, inflated if it is deflated, CRC checked.
Bytes member_bytes(std::span<const uint8_t> b, const Entry& en, const std::string& where) {
  if (en.offset > b.size() || b.size() - en.offset < kLocalLen || le::get32(b.data() + en.offset) != kLocalSig)
    bad(where, "its local zip header is missing");
  const uint8_t* l = b.data() + en.offset;
  uint64_t data = en.offset + kLocalLen + le::get16(l + 26) + le::get16(l + 28);
  if (data > b.size() || b.size() - data < en.csize) bad(where, "its data is truncated");
  if (std::string_view(reinterpret_cast<const char*>(l + kLocalLen), le::get16(l + 26)) != en.name)
    bad(where, "its local header names another member");
  std::span<const uint8_t> raw(b.data() + data, static_cast<size_t>(en.csize));
  Bytes out;
  if (en.method == kStored) {
    if (en.csize != en.usize) bad(where, "a stored member whose sizes differ");
    out.assign(raw.begin(), raw.end());
  } else {
    out.resize(static_cast<size_t>(en.usize));
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error(Exit::software, "zlib: inflateInit2 failed");
    zs.next_in = const_cast<Bytef*>(raw.data());
    zs.next_out = out.data();
    // zlib's counters are 32-bit: feed and drain at most 1 GiB at a time.
    size_t in_left = raw.size(), out_left = out.size();
    int rc = Z_OK;
    while (rc == Z_OK) {
      if (zs.avail_in == 0 && in_left) {
        zs.avail_in = static_cast<uInt>(std::min<size_t>(in_left, 1u << 30));
        in_left -= zs.avail_in;
      }
      if (zs.avail_out == 0 && out_left) {
        zs.avail_out = static_cast<uInt>(std::min<size_t>(out_left, 1u << 30));
        out_left -= zs.avail_out;
      }
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc == Z_BUF_ERROR && zs.avail_out == 0 && out_left == 0) break;  // more data than declared
      if (rc == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) break;    // truncated stream
    }
    size_t produced = out.size() - out_left - zs.avail_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != out.size())
      bad(where, fmt::format("its deflated data is corrupt or not {} bytes long", en.usize));
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t off = 0; off < out.size(); off += 1u << 30)
    crc = crc32(crc, out.data() + off, static_cast<uInt>(std::min<size_t>(out.size() - off, 1u << 30)));
  if (crc != en.crc) bad(where, "CRC-32 mismatch: the archive is corrupt");
  return out;
}

void put_dos_time(Bytes& o) {
  le::put16(o, 0);       // 00:00:00
  le::put16(o, 0x21);    // 1980-01-01: outputs do not depend on the clock
}

// What a stored member's local header and its central directory entry both say, in the same
// order (ZIP APPNOTE 4.3.7 and 4.3.12, "version needed to extract" to "extra field length").
void put_member_fields(Bytes& o, uint32_t crc, uint32_t size, uint16_t name_len) {
  le::put16(o, 20);  // version needed: 2.0
  le::put16(o, 0);   // flags
  le::put16(o, kStored);
  put_dos_time(o);
  le::put32(o, crc);
  le::put32(o, size);  // compressed
  le::put32(o, size);  // uncompressed
  le::put16(o, name_len);
  le::put16(o, 0);  // extra
}

}  // namespace

bool looks_like_npz(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && (le::get32(bytes.data()) == kLocalSig || le::get32(bytes.data()) == kEndSig);
}

uint64_t count(const std::vector<uint64_t>& shape) {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;  // callers bound the shapes first
  return n;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

std::vector<Array> read(std::span<const uint8_t> bytes, const std::string& origin, uint64_t max_elements,
                        bool shapes_only) {
  std::vector<Entry> entries = directory(bytes, origin);
  // Bound what inflating may allocate before doing it: a .npy member holds at most its
  // header and 8 bytes per value.
  uint64_t declared = 0, limit = max_elements * 8 + entries.size() * (npy::kMaxHeaderBytes + 12);
  std::set<std::string> names;
  for (const Entry& en : entries) {
    std::string where = fmt::format("{}: member '{}'", origin, printable(en.name));
    if (en.name.size() < 5 || en.name.compare(en.name.size() - 4, 4, ".npy") != 0)
      bad(where, "is not a .npy array (an .npz file holds NAME.npy members only)");
    if (!names.insert(en.name).second) bad(where, "appears twice in the archive");
    if (en.flags & 1) bad(where, "is encrypted");
    if (en.method != kStored && en.method != kDeflated)
      bad(where, fmt::format("uses zip compression method {}; only stored (0) and deflated (8) are supported",
                             en.method));
    declared += std::min<uint64_t>(en.usize, limit + 1);
    if (declared > limit)
      bad(origin, fmt::format(".npz members would hold more than the {} values expected", max_elements));
  }
  std::vector<Array> out;
  uint64_t total = 0;
  for (const Entry& en : entries) {
    std::string where = fmt::format("{}: member '{}'", origin, printable(en.name));
    Bytes m = member_bytes(bytes, en, where);
    npy::Header h = npy::parse_header(m, where);
    total += h.count;
    if (total > max_elements)
      bad(origin, fmt::format(".npz arrays hold more than the {} values expected", max_elements));
    Array a;
    a.name = en.name.substr(0, en.name.size() - 4);
    a.shape = h.shape;
    if (!shapes_only) a.values = npy::read_floats(m, where);
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<Array> in_layout_order(std::vector<Array> arrays) {
  std::stable_sort(arrays.begin(), arrays.end(), [](const Array& a, const Array& b) { return a.name < b.name; });
  return arrays;
}

std::vector<double> flatten(const std::vector<Array>& arrays) {
  std::vector<double> out;
  for (const Array& a : in_layout_order(arrays)) out.insert(out.end(), a.values.begin(), a.values.end());
  return out;
}

Bytes write(const std::vector<Array>& shapes, std::span<const double> values, npy::Dtype dtype) {
  // Where each array starts in the flat vector: layout order is by name.
  std::vector<Array> sorted = in_layout_order(shapes);
  std::map<std::string, uint64_t> start;
  uint64_t at = 0;
  for (const Array& a : sorted) {
    start[a.name] = at;
    at += count(a.shape);
  }
  if (at != values.size())
    throw Error(Exit::data, fmt::format("the shapes hold {} values, the average has {}", at, values.size()));
  Bytes out, dir;
  for (const Array& a : shapes) {
    Bytes m = npy::write_floats(values.subspan(start[a.name], count(a.shape)), dtype, a.shape);
    std::string name = a.name + ".npy";
    if (m.size() >= 0xFFFFFFFF || out.size() >= 0xFFFFFFFF - m.size() - kLocalLen - name.size())
      throw Error(Exit::data, "the average does not fit in an .npz file without ZIP64 (4 GiB): write .npy instead");
    uint32_t crc = 0;
    for (size_t off = 0; off < m.size(); off += 1u << 30)
      crc = crc32(crc, m.data() + off, static_cast<uInt>(std::min<size_t>(m.size() - off, 1u << 30)));
    uint32_t offset = static_cast<uint32_t>(out.size());
    const uint32_t size = static_cast<uint32_t>(m.size());
    const uint16_t name_len = static_cast<uint16_t>(name.size());
    le::put32(out, kLocalSig);
    put_member_fields(out, crc, size, name_len);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), m.begin(), m.end());

    le::put32(dir, kCentralSig);
    le::put16(dir, 20);  // made by: MS-DOS attributes, 2.0
    put_member_fields(dir, crc, size, name_len);
    le::put16(dir, 0);  // comment
    le::put16(dir, 0);  // disk
    le::put16(dir, 0);  // internal attributes
    le::put32(dir, 0);  // external attributes
    le::put32(dir, offset);
    dir.insert(dir.end(), name.begin(), name.end());
  }
  if (shapes.size() > 0xFFFE || out.size() + dir.size() >= 0xFFFFFFFF)
    throw Error(Exit::data, "the average does not fit in an .npz file without ZIP64 (4 GiB): write .npy instead");
  uint32_t cd_offset = static_cast<uint32_t>(out.size());
  out.insert(out.end(), dir.begin(), dir.end());
  le::put32(out, kEndSig);
  le::put16(out, 0);
  le::put16(out, 0);
  le::put16(out, static_cast<uint16_t>(shapes.size()));
  le::put16(out, static_cast<uint16_t>(shapes.size()));
  le::put32(out, static_cast<uint32_t>(dir.size()));
  le::put32(out, cd_offset);
  le::put16(out, 0);
  return out;
}

std::vector<Array> parse_shape_spec(const std::string& spec, bool* named) {
  auto usage = [&](const std::string& why) {
    throw Error(Exit::usage, fmt::format("--shape '{}': {}", printable(spec), why));
  };
  std::vector<Array> out;
  std::set<std::string> seen;
  size_t with_name = 0;
  size_t i = 0;
  uint64_t total = 0;
  while (true) {
    size_t comma = spec.find(',', i);
    std::string item = spec.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
    Array a;
    size_t eq = item.find('=');
    std::string dims = item;
    if (eq != std::string::npos) {
      a.name = item.substr(0, eq);
      dims = item.substr(eq + 1);
      if (a.name.empty()) usage("an empty name before '='");
      for (char c : a.name)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e || c == '/')
          usage(fmt::format("name '{}' has a character other than printable ASCII without '/'", printable(a.name)));
      ++with_name;
    }
    if (dims.empty()) usage(fmt::format("entry {} has no dimensions (like 3x4 or 5)", out.size() + 1));
    size_t j = 0;
    uint64_t n = 1;
    while (j <= dims.size()) {
      size_t x = dims.find('x', j);
      std::string d = dims.substr(j, x == std::string::npos ? std::string::npos : x - j);
      if (d.empty() || d.size() > 10 || d.find_first_not_of("0123456789") != std::string::npos)
        usage(fmt::format("'{}' is not a dimension (a whole number)", printable(d)));
      uint64_t v = std::stoull(d);
      a.shape.push_back(v);
      if (a.shape.size() > npy::kMaxDims) usage(fmt::format("more than {} dimensions", npy::kMaxDims));
      n = v == 0 || n == 0 ? 0 : n * v;
      if (n > npy::kMaxElements) usage("an array of more than 2^30 values");
      if (x == std::string::npos) break;
      j = x + 1;
    }
    total += n;
    if (total > npy::kMaxElements) usage("more than 2^30 values in all");
    out.push_back(std::move(a));
    if (comma == std::string::npos) break;
    i = comma + 1;
  }
  if (with_name != 0 && with_name != out.size()) usage("name every entry (NAME=DIMS) or none");
  if (with_name == 0)
    for (size_t k = 0; k < out.size(); ++k) out[k].name = fmt::format("arr_{}", k);
  for (const Array& a : out)
    if (!seen.insert(a.name).second) usage(fmt::format("name '{}' appears twice", printable(a.name)));
  *named = with_name != 0;
  return out;
}

}  // namespace secagg::npz

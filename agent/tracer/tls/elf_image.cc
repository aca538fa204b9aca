#include "agent/tracer/tls/elf_image.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace coroot::agent::tracer::tls {
namespace {

// Section headers are bounded so that a hostile header cannot make us allocate without limit.
constexpr uint64_t kMaxSections = 1 << 16;

template <typename T>
bool ReadAt(std::string_view b, uint64_t off, T* out) {
  if (off > b.size() || b.size() - off < sizeof(T)) return false;
  std::memcpy(out, b.data() + off, sizeof(T));
  return true;
}

// The NUL-terminated string at off inside a string table; empty when it is out of bounds.
std::string_view StringAt(std::string_view table, uint64_t off) {
  if (off >= table.size()) return {};
  std::string_view rest = table.substr(off);
  size_t end = rest.find('\0');
  return end == std::string_view::npos ? std::string_view{} : rest.substr(0, end);
}

}  // namespace

StatusOr<ElfImage> ElfImage::Parse(std::string_view b) {
  Elf64_Ehdr eh;
  if (!ReadAt(b, 0, &eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return InvalidArgument("not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
    return InvalidArgument("not a 64-bit little-endian ELF file");

  ElfImage img;
  img.bytes_ = b;

  if (eh.e_phentsize == sizeof(Elf64_Phdr)) {
    for (uint64_t i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      if (!ReadAt(b, eh.e_phoff + i * sizeof ph, &ph)) return InvalidArgument("program header outside the file");
      if (ph.p_type == PT_LOAD) img.loads_.push_back({ph.p_vaddr, ph.p_offset, ph.p_filesz});
    }
  }

  if (eh.e_shoff == 0) return img;  // no section headers: nothing but segments to offer
  if (eh.e_shentsize != sizeof(Elf64_Shdr)) return InvalidArgument("unexpected section header size");
  Elf64_Shdr first;
  if (!ReadAt(b, eh.e_shoff, &first)) return InvalidArgument("section headers outside the file");
  // Extended numbering: the real count and string-table index live in section 0.
  uint64_t count = eh.e_shnum != 0 ? eh.e_shnum : first.sh_size;
  uint64_t strndx = eh.e_shstrndx != SHN_XINDEX ? eh.e_shstrndx : first.sh_link;
  if (count > kMaxSections) return InvalidArgument("too many sections");
  std::vector<Elf64_Shdr> raw(count);
  for (uint64_t i = 0; i < count; ++i)
    if (!ReadAt(b, eh.e_shoff + i * sizeof(Elf64_Shdr), &raw[i])) return InvalidArgument("section header outside the file");

  std::string_view names;
  if (strndx < count && raw[strndx].sh_offset <= b.size() && raw[strndx].sh_size <= b.size() - raw[strndx].sh_offset)
    names = b.substr(raw[strndx].sh_offset, raw[strndx].sh_size);
  img.sections_.reserve(count);
  for (const auto& s : raw)
    img.sections_.push_back({StringAt(names, s.sh_name), s.sh_type, s.sh_addr, s.sh_offset, s.sh_size, s.sh_link, s.sh_entsize});
  return img;
}

const ElfSection* ElfImage::FindSection(std::string_view name) const {
  for (const auto& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

std::string_view ElfImage::SectionData(const ElfSection& s) const {
  if (s.type == SHT_NOBITS || s.offset > bytes_.size() || s.size > bytes_.size() - s.offset) return {};
  return bytes_.substr(s.offset, s.size);
}

void ElfImage::ForEachFunction(const std::function<bool(const ElfSymbol&)>& fn) const {
  for (uint32_t table_type : {SHT_SYMTAB, SHT_DYNSYM}) {
    for (const auto& s : sections_) {
      if (s.type != table_type || s.link >= sections_.size()) continue;
      std::string_view syms = SectionData(s), strs = SectionData(sections_[s.link]);
      for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= syms.size(); off += sizeof(Elf64_Sym)) {
        Elf64_Sym sym;
        std::memcpy(&sym, syms.data() + off, sizeof sym);
        if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
        std::string_view name = StringAt(strs, sym.st_name);
        if (name.empty()) continue;
        if (!fn({name, sym.st_value, sym.st_size})) return;
      }
    }
  }
}

std::optional<ElfSymbol> ElfImage::FindFunction(std::string_view name) const {
  std::optional<ElfSymbol> found;
  ForEachFunction([&](const ElfSymbol& s) {
    if (s.name != name) return true;
    found = s;
    return false;
  });
  return found;
}

std::optional<uint64_t> ElfImage::FileOffset(uint64_t vaddr) const {
  for (const auto& l : loads_)
    if (vaddr >= l.vaddr && vaddr - l.vaddr < l.filesz) return vaddr - l.vaddr + l.offset;
  return std::nullopt;
}

std::string_view ElfImage::BytesAt(uint64_t vaddr, uint64_t size) const {
  for (const auto& l : loads_) {
    if (vaddr < l.vaddr || vaddr - l.vaddr >= l.filesz || size > l.filesz - (vaddr - l.vaddr)) continue;
    uint64_t off = vaddr - l.vaddr + l.offset;
    if (off > bytes_.size() || size > bytes_.size() - off) return {};
    return bytes_.substr(off, size);
  }
  return {};
}

StatusOr<MappedFile> MappedFile::Open(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus("stat " + path, err);
  }
  if (!S_ISREG(st.st_mode) || st.st_size == 0) {
    close(fd);
    return InvalidArgument(path + " is not a regular non-empty file");
  }
  void* addr = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  close(fd);
  if (addr == MAP_FAILED) return ErrnoStatus("mmap " + path, err);
  MappedFile f;
  f.addr_ = addr;
  f.size_ = st.st_size;
  f.dev_ = st.st_dev;
  f.inode_ = st.st_ino;
  return f;
}

MappedFile::MappedFile(MappedFile&& o) noexcept : addr_(o.addr_), size_(o.size_), dev_(o.dev_), inode_(o.inode_) {
  o.addr_ = nullptr;
  o.size_ = 0;
}

MappedFile::~MappedFile() {
  if (addr_ != nullptr) munmap(addr_, size_);
}

}  // namespace coroot::agent::tracer::tls

#pragma once
// A bounds-checked reader of 64-bit little-endian ELF files: sections, function symbols and the
// mapping from virtual addresses to file offsets that uprobes are attached by. Binaries come from
// other processes' file systems, so every field is treated as untrusted.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace coroot::agent::tracer::tls {

struct ElfSection {
  std::string_view name;
  uint32_t type = 0;
  uint64_t addr = 0, offset = 0, size = 0;
  uint32_t link = 0;
  uint64_t entsize = 0;
};

struct ElfSymbol {
  std::string_view name;
  uint64_t value = 0;  // virtual address
  uint64_t size = 0;
};

// Views into bytes that the caller keeps alive (a MappedFile or a buffer).
class ElfImage {
 public:
  static StatusOr<ElfImage> Parse(std::string_view bytes);

  const std::vector<ElfSection>& sections() const { return sections_; }
  const ElfSection* FindSection(std::string_view name) const;
  // The section's bytes; empty for SHT_NOBITS or when it lies outside the file.
  std::string_view SectionData(const ElfSection& s) const;

  // Function symbols of .symtab, then .dynsym. The callback returns false to stop.
  void ForEachFunction(const std::function<bool(const ElfSymbol&)>& fn) const;
  std::optional<ElfSymbol> FindFunction(std::string_view name) const;

  // File offset of a virtual address, through the PT_LOAD segment that holds it.
  std::optional<uint64_t> FileOffset(uint64_t vaddr) const;
  // size bytes at vaddr, if they are all inside one loaded segment's file image.
  std::string_view BytesAt(uint64_t vaddr, uint64_t size) const;

 private:
  struct Segment {
    uint64_t vaddr, offset, filesz;
  };
  std::string_view bytes_;
  std::vector<ElfSection> sections_;
  std::vector<Segment> loads_;
};

// A read-only mmap of a whole file (binaries can be hundreds of MB; nothing is copied).
class MappedFile {
 public:
  static StatusOr<MappedFile> Open(const std::string& path);
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  ~MappedFile();
  std::string_view bytes() const { return {static_cast<const char*>(addr_), size_}; }
  uint64_t dev() const { return dev_; }
  uint64_t inode() const { return inode_; }

 private:
  MappedFile() = default;
  void* addr_ = nullptr;
  size_t size_ = 0;
  uint64_t dev_ = 0, inode_ = 0;
};

}  // namespace coroot::agent::tracer::tls

// A SQLite VFS that writes each commit's WAL frames with one write() call.
//
// SQLite appends a transaction to the write-ahead log one frame at a time,
// and each frame as two writes: its 24-byte header, then the page. A commit
// of 40 pages is 80 pwrite calls, and on a virtual machine the cost of a
// syscall is most of the cost of writing a page into the page cache. This VFS
// wraps the default one and, for WAL files only, gathers writes that follow
// each other in the file into one buffer, written out:
//   - when the frame that marks a commit is complete (the header of a commit
//     frame carries the database size, other frames carry 0), so a failed
//     write fails the COMMIT itself;
//   - before anything that must see the file as written: a read, a sync, a
//     truncate, the file's size, a file control, closing it;
//   - before the connection publishes a new WAL index header (its shared
//     memory barrier), so no other connection can see a frame that is not in
//     the file yet, whatever SQLite's write pattern;
//   - before the buffer would exceed 120 KiB, or when a write does not follow it.
// Database files, temporary files and the rest pass straight through.
//
// Thread-safety: SQLite calls a file's methods from one thread at a time
// (punt opens connections with SQLITE_OPEN_NOMUTEX and uses each from one
// thread at a time).
#pragma once

namespace punt::store::sqlite {

// The VFS's name, for sqlite3_open_v2. Registers it (not as the default) on
// the first call; null if the default VFS could not be found or wrapped.
const char* WalGatheringVfsName();

}  // namespace punt::store::sqlite

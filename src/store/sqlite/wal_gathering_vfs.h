// A SQLite VFS that writes each commit's WAL frames with one write() call,
// and lets a checkpoint read the WAL from memory and write runs of pages.
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
// It also makes checkpoints cheaper. Between a checkpoint's start and its end
// (SQLITE_FCNTL_CKPT_START and _DONE on the database file):
//   - the checkpoint's reads of the WAL are copies from a read-only map of
//     the WAL (kept between checkpoints, up to 64 MiB of WAL), not a read
//     call a frame;
//   - its writes to the database file are gathered into runs of adjacent
//     pages like the WAL's, the last run written at the checkpoint's end.
//     SQLite does not see an error there, and after a checkpoint of part of
//     the WAL it counts the pages as copied without another call: a failure
//     there breaks the database, so that every later read, write and sync of
//     it, through any connection of the process, fails (SQLITE_IOERR) rather
//     than read pages that are not there. The WAL keeps them: reopening the
//     database after every connection closed copies them again.
// Other writes to database files, temporary files and the rest pass straight
// through.
//
// Thread-safety: SQLite calls a file's methods from one thread at a time
// (punt opens connections with SQLITE_OPEN_NOMUTEX and uses each from one
// thread at a time); what the files of one database share (broken or not) is
// an atomic, found under a lock when a file opens.
#pragma once

namespace punt::store::sqlite {

// The VFS's name, for sqlite3_open_v2. Registers it (not as the default) on
// the first call; null if the default VFS could not be found or wrapped.
const char* WalGatheringVfsName();

}  // namespace punt::store::sqlite

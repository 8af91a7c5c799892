package dev.shiftaddvit.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AtomicFilesTest {
    @Test
    void aFailedWriteKeepsTheOldFileAndLeavesNoTemporary(@TempDir Path dir) throws IOException {
        Path target = Files.writeString(dir.resolve("m.bin"), "old");
        OutputFileException e = assertThrows(OutputFileException.class, () -> AtomicFiles.write(target, ch -> {
            AtomicFiles.writeFully(ch, java.nio.ByteBuffer.wrap(new byte[100]));
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot write " + target + ": No space left on device", e.getMessage());
        assertEquals("old", Files.readString(target));
        assertEquals(List.of(target), files(dir));
    }

    @Test
    void writingUnderAMissingDirectoryOrOverADirectoryNamesTheTarget(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("no/such/m.bin");
        assertEquals("cannot write " + missing + ": directory " + missing.getParent() + " does not exist",
                assertThrows(OutputFileException.class, () -> AtomicFiles.writeString(missing, "x")).getMessage());
        Path folder = Files.createDirectory(dir.resolve("folder"));
        assertEquals("cannot write " + folder + ": is a directory",
                assertThrows(OutputFileException.class, () -> AtomicFiles.requireWritable(folder)).getMessage());
        Path underFile = Files.writeString(dir.resolve("file"), "x").resolve("m.bin");
        assertTrue(assertThrows(OutputFileException.class, () -> AtomicFiles.requireWritable(underFile)).getMessage()
                .endsWith("is not a directory"));
    }

    @Test
    void requireWritableLeavesNothingBehind(@TempDir Path dir) throws IOException {
        AtomicFiles.requireWritable(dir.resolve("m.bin"));
        assertEquals(List.of(), files(dir));
    }

    @Test
    void aSuccessfulWriteRemovesStaleTemporariesOfItsTargetOnly(@TempDir Path dir) throws IOException {
        Path stale = Files.writeString(dir.resolve(".m.bin.3f2a9c.tmp"), "killed");
        Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        Path otherTarget = Files.writeString(dir.resolve(".n.bin.3f2a9c.tmp"), "another file's");
        Files.setLastModifiedTime(otherTarget, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        Path notOurs = Files.writeString(dir.resolve(".m.bin.notes.tmp"), "a user's file");
        Path target = dir.resolve("m.bin");
        AtomicFiles.writeString(target, "new");
        assertEquals("new", Files.readString(target));
        assertEquals(List.of(otherTarget, notOurs, target).stream().sorted().toList(), files(dir));
    }

    @Test
    void createDirectoriesRefusesAPathThroughAFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("runs"), "x");
        OutputFileException e = assertThrows(OutputFileException.class, () -> AtomicFiles.createDirectories(file));
        assertTrue(e.getMessage().startsWith("cannot write " + file + ": "), e.getMessage());
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}

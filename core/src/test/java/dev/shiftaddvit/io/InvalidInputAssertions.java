package dev.shiftaddvit.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.function.Executable;

/** Shared assertion: an action fails with an InvalidInputException naming the source and the problem. */
public final class InvalidInputAssertions {
    private InvalidInputAssertions() {}

    public static InvalidInputException assertInvalid(Path file, String problemFragment, Executable action) {
        return assertInvalid(file.toString(), problemFragment, action);
    }

    public static InvalidInputException assertInvalid(String source, String problemFragment, Executable action) {
        InvalidInputException e = assertThrows(InvalidInputException.class, action);
        String msg = e.getMessage();
        assertTrue(msg.startsWith(source + ": "), () -> "message does not start with the source '" + source + "': " + msg);
        assertTrue(e.source().equals(source), () -> "source() is '" + e.source() + "', expected '" + source + "'");
        assertTrue(msg.contains(problemFragment), () -> "message lacks '" + problemFragment + "': " + msg);
        assertTrue(e.problem().length() > 0);
        return e;
    }
}

package dev.shiftaddvit.cli;

import java.util.List;

/** The raw arguments of this run, recorded in the metadata of what it writes. */
final class CommandLineCapture {
    private static volatile List<String> args = List.of();

    private CommandLineCapture() {
    }

    static void set(String[] a) {
        args = List.of(a);
    }

    /** "shiftaddvit" followed by the arguments, as typed. */
    static String commandLine() {
        return args.isEmpty() ? "shiftaddvit" : "shiftaddvit " + String.join(" ", args);
    }
}

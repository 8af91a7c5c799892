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

    static List<String> args() {
        return args.size() > 0 && args.getFirst().equals("train") ? args.subList(1, args.size()) : args;
    }
}

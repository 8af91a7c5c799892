package dev.shiftaddvit.cli;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.OutputFileException;
import dev.shiftaddvit.kernel.VectorWidth;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.tensor.ShapeException;
import dev.shiftaddvit.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/** Entry point of the `shiftaddvit` command line. */
@Command(name = "shiftaddvit", mixinStandardHelpOptions = true, version = "shiftaddvit 0.1.0",
        description = "Pure-Java vision transformers: train, evaluate, predict and benchmark on the JVM.",
        subcommands = {DemoCommand.class, TrainCommand.class, EvalCommand.class, PredictCommand.class,
                InfoCommand.class, BenchCommand.class, ReparamCommand.class, FinetuneCommand.class, PipelineCommand.class,
                ReportCommand.class, CostCommand.class, DeployCommand.class, ExportCommand.class, ImportCommand.class, ServeCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code: 0 ok, 1 failure, 2 bad input or usage. */
    public static int run(String... args) {
        try {
            VectorWidth.describe();   // initialises the width; a bad -Dshiftaddvit.vector.bits fails here
        } catch (ExceptionInInitializerError e) {
            if (!(e.getCause() instanceof IllegalArgumentException bad)) throw e;
            System.err.println("error: " + bad.getMessage());
            return 2;
        }
        CommandLineCapture.set(args);
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, ignored) -> {
            String command = ex.getCommandLine().getCommandSpec().qualifiedName(" ");
            ex.getCommandLine().getErr().println("error: " + ex.getMessage() + " (see " + command + " --help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof InvalidInputException || ex instanceof ConfigException || ex instanceof ShapeException
                    || ex instanceof IllegalArgumentException || ex instanceof OutputFileException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            if (ex instanceof TrainingDivergedException || ex instanceof UncheckedIOException
                    || ex instanceof IOException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            // A backstop: sizes are checked before allocating, but no trace should reach the user.
            System.err.println("error: out of memory (" + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MiB heap); use smaller sizes or a larger -Xmx");
            return 2;
        }
    }
}

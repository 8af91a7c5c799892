package dev.shiftaddvit.cli;

import dev.shiftaddvit.cli.report.PipelineReport;
import dev.shiftaddvit.cli.report.PipelineSummary;
import dev.shiftaddvit.io.InvalidInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Re-renders report.md and the PNG plots of a pipeline run from its summary.json.")
final class ReportCommand implements Callable<Integer> {
    @Option(names = "--dir", defaultValue = "runs/pipeline",
            description = "Directory of the pipeline run (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Override
    public Integer call() {
        Path summary = dir.resolve(PipelineReport.SUMMARY);
        if (!Files.isRegularFile(summary)) {
            throw new InvalidInputException(summary.toString(), "not found; `shiftaddvit pipeline` writes it");
        }
        try {
            PipelineReport.render(dir, PipelineSummary.read(summary));
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
        System.out.println("wrote " + dir.resolve(PipelineReport.REPORT));
        return 0;
    }
}

package dev.shiftaddvit.cli.report;

import dev.shiftaddvit.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportCommandTest {
    @Test
    void rendersReportAndPlotsFromAnExistingSummaryWithoutRewritingIt(@TempDir Path dir) throws Exception {
        PipelineReportTest.sample().write(dir.resolve("summary.json"));
        byte[] before = Files.readAllBytes(dir.resolve("summary.json"));
        assertEquals(0, Main.run("report", "--dir", dir.toString()));
        assertEquals(PipelineReport.markdown(PipelineReportTest.sample()), Files.readString(dir.resolve("report.md")));
        for (String png : new String[]{"accuracy.png", "throughput.png", "energy.png"}) {
            assertTrue(Files.size(dir.resolve(png)) > 0, png);
        }
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("summary.json")));
    }

    @Test
    void missingOrBrokenSummaryIsBadInputNamingTheFile(@TempDir Path dir) throws Exception {
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(2, Main.run("report", "--dir", dir.toString()));
            Files.writeString(dir.resolve("summary.json"), "{\"format_version\": 1, \"stages\": [");
            assertEquals(2, Main.run("report", "--dir", dir.toString()));
        } finally {
            System.setErr(oldErr);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, text.split(dir.resolve("summary.json").toString(), -1).length - 1, text);
        assertFalse(Files.exists(dir.resolve("report.md")));
    }
}

package dev.shiftaddvit.model.convert;

import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.model.ConfigException;
import dev.shiftaddvit.model.Configs;
import dev.shiftaddvit.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which config an import takes: --model FILE.json (our metadata) and the config.json beside the weights. */
class ImportSourceTest {
    private static final String VIT_FIELDS = "\"arch\": \"vit\", \"name\": \"mine\", \"img_size\": 32, "
            + "\"patch_size\": 8, \"in_chans\": 3, \"num_classes\": 10, \"embed_dim\": 16, \"depth\": 2, "
            + "\"num_heads\": 2, \"mlp_ratio\": 2.0, \"qkv_bias\": true, \"class_token\": true, \"norm_eps\": 1e-6";

    @TempDir
    Path dir;

    private Path write(String name, String json) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, json);
        return p;
    }

    @Test
    void metadataFileTakesJsonListsForMeanAndStd() throws IOException {
        Path f = write("mine.json", "{" + VIT_FIELDS
                + ", \"mean\": [0.485, 0.456, 0.406], \"std\": [0.229, 0.224, 0.225]}");
        ModelConfig c = ImportSource.config(f.toString(), dir.resolve("weights.safetensors"));
        assertArrayEquals(new float[] {0.485f, 0.456f, 0.406f}, c.mean());
        assertArrayEquals(new float[] {0.229f, 0.224f, 0.225f}, c.std());
        assertEquals(32, c.imgSize());
    }

    @Test
    void metadataFileTakesTheStringsAModelFileHolds() throws IOException {
        Path f = write("mine.json", "{" + VIT_FIELDS.replace("\"img_size\": 32", "\"img_size\": \"32\"")
                + ", \"mean\": \"0.485,0.456,0.406\", \"std\": \"0.229,0.224,0.225\"}");
        assertEquals(32, ImportSource.config(f.toString(), dir.resolve("w.safetensors")).imgSize());
    }

    @Test
    void metadataFileMissingThreeFieldsNamesAllThreeInOneMessage() throws IOException {
        String fields = VIT_FIELDS.replace("\"depth\": 2, ", "").replace("\"num_heads\": 2, ", "");
        Path f = write("short.json", "{" + fields + ", \"mean\": [0.5, 0.5, 0.5]}");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ImportSource.config(f.toString(), dir.resolve("w.safetensors")));
        assertEquals(f + ": metadata lacks \"depth\", \"num_heads\", \"std\"", e.getMessage());
    }

    @Test
    void metadataFileNamesMissingAndMalformedFieldsTogether() throws IOException {
        Path f = write("bad.json", "{" + VIT_FIELDS.replace("\"depth\": 2", "\"depth\": \"two\"")
                + ", \"mean\": [[0.5], 0.5, 0.5]}");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ImportSource.config(f.toString(), dir.resolve("w.safetensors")));
        assertEquals(f + ": metadata lacks \"std\"; metadata \"depth\" is not an integer: two; "
                + "metadata \"mean\" is not a list of numbers: [[0.5],0.5,0.5]", e.getMessage());
    }

    @Test
    void oneMalformedFieldReadsAsItDidAlone() throws IOException {
        Path f = write("one.json", "{" + VIT_FIELDS.replace("\"depth\": 2", "\"depth\": 2.5")
                + ", \"mean\": [0.5, 0.5, 0.5], \"std\": [0.5, 0.5, 0.5]}");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ImportSource.config(f.toString(), dir.resolve("w.safetensors")));
        assertEquals(f + ": metadata \"depth\" is not an integer: 2.5", e.getMessage());
    }

    @Test
    void configJsonOfNeitherHuggingFaceNorTimmNorOursSaysWhatWasExpectedAndHowToProceed() throws IOException {
        Path json = write("config.json", "{\"hidden_dim\": 192, \"layers\": 12}");
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> ImportSource.config(null, dir.resolve("model.safetensors")));
        String m = e.getMessage();
        assertTrue(m.startsWith(json.toAbsolutePath() + ": "), m);
        assertTrue(m.contains("\"model_type\"") && m.contains("\"architecture\"") && m.contains("\"arch\""), m);
        assertTrue(m.contains("--model NAME") && m.contains("--model FILE.json"), m);
    }

    @Test
    void configJsonOfOurMetadataBesideTheWeightsIsRead() throws IOException {
        write("config.json", "{" + VIT_FIELDS + ", \"mean\": [0.5, 0.5, 0.5], \"std\": [0.5, 0.5, 0.5]}");
        assertEquals("mine", ImportSource.config(null, dir.resolve("model.safetensors")).name());
    }

    @Test
    void readmeMetadataExamplesAreTheNamedConfigsTheyShow() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        Matcher m = Pattern.compile("```json\n(\\{\"arch\".*?)```", Pattern.DOTALL).matcher(readme);
        List<String> names = new ArrayList<>();
        while (m.find()) {
            Path f = write("example" + names.size() + ".json", m.group(1));
            ModelConfig c = ImportSource.config(f.toString(), f);
            assertEquals(Configs.byName(c.name()).toMetadata(), c.toMetadata(), c.name());
            names.add(c.name());
        }
        assertEquals(List.of("deit_tiny", "pvt_v2_b0"), names);
    }
}

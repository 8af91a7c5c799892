package dev.shiftaddvit.serve;

import org.apache.commons.fileupload2.core.MultipartInput;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The encoded image of a request body: the body itself, or with {@code multipart/form-data} the part named
 * {@code image} (else the first part with a file name, else the first part).
 */
final class ImageBody {
    /** A body the client got wrong: answered 400 with this message. */
    static final class BadRequest extends Exception {
        BadRequest(String message) {
            super(message);
        }
    }

    private static final Pattern NAME = Pattern.compile("(?:^|;)\\s*name\\s*=\\s*\"?([^\";]*)\"?");
    private static final Pattern FILENAME = Pattern.compile("(?:^|;)\\s*filename\\*?\\s*=");

    private ImageBody() {
    }

    /** The value of a part's Content-Disposition header, lower case ("" when it has none). */
    private static String disposition(String headers) {
        for (String line : headers.split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-disposition")) {
                return line.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
            }
        }
        return "";
    }

    /**
     * @param contentType the request's media type without parameters, lower case (null when absent)
     * @param boundary    its boundary parameter (multipart only)
     */
    static byte[] extract(byte[] body, String contentType, String boundary) throws BadRequest {
        if (body.length == 0) throw new BadRequest("the request body is empty; send a PNG or JPEG image");
        if (contentType == null || !contentType.startsWith("multipart/")) return body;
        if (!contentType.equals("multipart/form-data")) {
            throw new BadRequest("content type " + contentType + " is not supported; send the image raw or as "
                    + "multipart/form-data");
        }
        if (boundary == null || boundary.isEmpty()) throw new BadRequest("multipart/form-data without a boundary");
        try {
            MultipartInput in = MultipartInput.builder().setInputStream(new ByteArrayInputStream(body))
                    .setBoundary(boundary.getBytes(StandardCharsets.ISO_8859_1)).get();
            byte[] named = null;
            byte[] file = null;
            byte[] first = null;
            boolean more = in.skipPreamble();
            while (more) {
                String disposition = disposition(in.readHeaders());
                ByteArrayOutputStream part = new ByteArrayOutputStream();
                in.readBodyData(part);
                byte[] bytes = part.toByteArray();
                if (first == null) first = bytes;
                if (file == null && FILENAME.matcher(disposition).find()) file = bytes;
                Matcher name = NAME.matcher(disposition);
                if (named == null && name.find() && name.group(1).equals("image")) named = bytes;
                more = in.readBoundary();
            }
            byte[] image = named != null ? named : file != null ? file : first;
            if (image == null) throw new BadRequest("the multipart body has no parts");
            if (image.length == 0) throw new BadRequest("the image part of the multipart body is empty");
            return image;
        } catch (IOException | RuntimeException e) {
            throw new BadRequest("malformed multipart body: " + e.getMessage());
        }
    }
}

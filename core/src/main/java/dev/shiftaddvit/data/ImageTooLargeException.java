package dev.shiftaddvit.data;

import dev.shiftaddvit.io.InvalidInputException;

/** An image whose declared size is over the decoder's limits: refused before any pixel is decoded. */
public final class ImageTooLargeException extends InvalidInputException {
    private static final long serialVersionUID = 1L;

    public ImageTooLargeException(String source, String problem) {
        super(source, problem);
    }
}

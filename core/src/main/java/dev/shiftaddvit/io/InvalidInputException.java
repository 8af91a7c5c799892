package dev.shiftaddvit.io;

/**
 * Input (a file, a resource, a stream) is malformed or unusable. Every reader of the engine throws
 * this, and only this, for bad input; the message is {@code "<source>: <problem>"} so that it names
 * the file and says what is wrong.
 */
public class InvalidInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String problem;

    public InvalidInputException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
        this.problem = problem;
    }

    public InvalidInputException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
        this.problem = problem;
    }

    /** The file, resource or stream that was being read. */
    public String source() {
        return source;
    }

    /** What is wrong with it, without the source. */
    public String problem() {
        return problem;
    }
}

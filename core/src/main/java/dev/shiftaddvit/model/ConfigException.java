package dev.shiftaddvit.model;

/** A model configuration is invalid or cannot be read. */
public final class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
        super(message);
    }
}

package dev.weft.api.core;

import dev.weft.api.Spec;
import java.util.Map;

/**
 * A core/v1 Secret. Its values are never logged.
 *
 * @param type the secret type, e.g. {@code kubernetes.io/tls}
 * @param data decoded values by key ({@code data} is base64-decoded, {@code stringData} merged)
 */
public record Secret(String type, Map<String, byte[]> data) implements Spec {}

/**
 * JSON text without a JSON library: what a proxy's JVM writes (access log lines, the state
 * directory's records, a workload token request) needs only strings escaped, and leaving Jackson
 * out keeps its classes out of that JVM (issue #10).
 */
package dev.weft.proxy.json;

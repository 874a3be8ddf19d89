/** Istio-format access log lines, written by a dedicated thread from a bounded queue. */
package dev.weft.proxy.accesslog;

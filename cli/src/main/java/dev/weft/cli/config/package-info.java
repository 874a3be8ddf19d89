/**
 * kubectl's verbs on Istio resources against the control plane's API: {@code weft apply} (with
 * {@code --wait} for the proxies' ACKs), {@code delete}, {@code get} and {@code validate}.
 */
package dev.weft.cli.config;

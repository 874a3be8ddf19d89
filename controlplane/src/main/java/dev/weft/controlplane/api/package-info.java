/**
 * The control plane's HTTP API on loopback ({@code weft apply|get|delete|proxy-status}), with a
 * bearer token.
 */
package dev.weft.controlplane.api;

/**
 * Listening sockets that follow LDS, the filter chain each accepted connection gets ({@code
 * FilterChainSelector}), and the Netty transport (epoll or NIO).
 */
package dev.weft.proxy.listener;

/**
 * One parser per xDS resource type, as grpc-java's xds ({@code XdsListenerResource}, {@code
 * XdsClusterResource}, ...): {@link dev.weft.proxy.xds.resource.ListenerParser}, {@link
 * dev.weft.proxy.xds.resource.RouteConfigurationParser}, {@link
 * dev.weft.proxy.xds.resource.ClusterParser}, {@link
 * dev.weft.proxy.xds.resource.ClusterLoadAssignmentParser} and {@link
 * dev.weft.proxy.xds.resource.SecretParser}. Each {@code parse} returns the complete immutable
 * value of {@code dev.weft.proxy.config} or throws an {@link
 * dev.weft.proxy.config.InvalidResourceException} naming the resource and the field (the xDS client
 * NACKs with it). {@link dev.weft.proxy.xds.resource.ConfigCompiler} is the facade the xDS client
 * and {@code weft x simulate} use.
 */
package dev.weft.proxy.xds.resource;

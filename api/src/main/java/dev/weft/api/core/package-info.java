/** core/v1 kinds that Weft reads: Service, Namespace, Secret. */
package dev.weft.api.core;

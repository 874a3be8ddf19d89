package dev.weft.proxy.net;

import io.netty.handler.codec.CharSequenceValueConverter;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.DefaultHeaders.NameValidator;
import io.netty.handler.codec.DefaultHeaders.ValueValidator;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map.Entry;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * An HTTP/1.1 message's header fields as one array of names and values in the order they were
 * added: the header map of the proxy's HTTP/1.1 decoders ({@link Http1Headers#HEADERS}), in place
 * of Netty's {@code DefaultHttpHeaders}, which keeps a hash table of 16 buckets and one linked
 * entry object per field. A message's head has a dozen fields or so, which one scan finds as fast
 * as a hash does: names are compared by identity first (the decoders and the proxy share {@link
 * HeaderNames}' instances), then by length, then case-insensitively (RFC 9110 5.1: field names are
 * case-insensitive); a name no field has is mostly answered without a scan, from one {@code long}
 * with a bit per name's hash. Per message this allocates the map and its array instead of a map, a
 * wrapper, a bucket array and an entry per field.
 *
 * <p>What a caller sees is Netty's {@code DefaultHttpHeaders}' behaviour, which {@code
 * FlatHttpHeadersTest} checks operation by operation against it: {@code get} answers the first
 * value added under a name; {@code set} removes every field of the name and appends the new ones at
 * the end; iteration is in insertion order; names and values are validated on every add and set by
 * the validators given (Netty's, with its message "Validation failed for header 'NAME'"), and
 * values converted as Netty's HTTP headers convert them ({@code Date} and {@code Calendar} as HTTP
 * dates, other objects by {@code toString}). {@code equals} compares two of these maps as Netty's
 * does two of its own: the same values, in order, under each name.
 *
 * <p>Where it differs from Netty 4.2's map (each difference pinned by that test): {@code names()}
 * holds one name per name, spelled as first added (Netty's one per spelling); a name's value
 * iterators go in insertion order, as {@code getAll} (Netty's newest first); every iterator's
 * {@code remove} removes the field (Netty's map iterators are read-only, and its value iterator's
 * {@code remove} unlinks other fields from lookups); entries are copies whose {@code setValue}
 * throws; {@code getTimeMillis} of a value that is not a date is null (Netty lets its undeclared
 * {@code ParseException} out); a copy validates values as its source does (Netty's copy stops).
 *
 * <p>Not thread-safe: a message's map belongs to the event loop that handles the message. Entries
 * given by the iterators are copies, valid after the map changes.
 */
public final class FlatHttpHeaders extends HttpHeaders {
  private static final int INITIAL_FIELDS = 12;
  private static final CharSequence[] NONE = new CharSequence[0];

  private final NameValidator<CharSequence> nameValidator;
  private final ValueValidator<CharSequence> valueValidator;

  /** Name of field i at 2i, its value at 2i + 1; {@code size} fields used, the rest null. */
  private CharSequence[] fields;

  private int size;

  /**
   * The {@link #bit}s of every name added since the map was made or cleared, removed ones too: a
   * bit not set means no field has a name of that bit.
   */
  private long nameBits;

  FlatHttpHeaders(
      NameValidator<CharSequence> nameValidator,
      ValueValidator<CharSequence> valueValidator,
      int sizeHint) {
    this.nameValidator = Objects.requireNonNull(nameValidator, "nameValidator");
    this.valueValidator = Objects.requireNonNull(valueValidator, "valueValidator");
    this.fields = sizeHint == 0 ? NONE : new CharSequence[2 * sizeHint];
  }

  /**
   * A factory of these maps, validating names and values with {@code nameValidator} and {@code
   * valueValidator}; its empty maps start without an array.
   */
  public static Factory factory(
      NameValidator<CharSequence> nameValidator, ValueValidator<CharSequence> valueValidator) {
    return new Factory(nameValidator, valueValidator, INITIAL_FIELDS);
  }

  /** The number of fields. */
  @Override
  public int size() {
    return size;
  }

  @Override
  public boolean isEmpty() {
    return size == 0;
  }

  /** The name of field {@code i} (0 ≤ i < {@link #size()}), as it was added. */
  public CharSequence nameAt(int i) {
    return fields[2 * checkIndex(i)];
  }

  /** The value of field {@code i} (0 ≤ i < {@link #size()}), as it was added or converted. */
  public CharSequence valueAt(int i) {
    return fields[2 * checkIndex(i) + 1];
  }

  private int checkIndex(int i) {
    return Objects.checkIndex(i, size);
  }

  // ---- reads

  /** The index of the first field named {@code name} at or after field {@code from}, or -1. */
  private int indexOf(CharSequence name, int from) {
    CharSequence[] f = fields;
    int length = name.length();
    for (int i = from, end = size; i < end; i++) {
      CharSequence n = f[2 * i];
      if (n == name || (n.length() == length && AsciiString.contentEqualsIgnoreCase(n, name))) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The index of the first field named {@code name}, or -1; a name none of whose fields was ever
   * added answers -1 from {@link #nameBits} alone, without a scan (most lookups are of absent
   * names: {@code upgrade}, {@code te}, Envoy's and Istio's headers on a message that has none).
   */
  private int first(CharSequence name) {
    if ((nameBits & bit(Objects.requireNonNull(name, "name"))) == 0) {
      return -1;
    }
    return indexOf(name, 0);
  }

  /**
   * The bit of {@link #nameBits} for {@code name}: of its case-insensitive hash ({@code
   * AsciiString.hashCode}, cached in an {@code AsciiString}), so that names equal but for case, a
   * String or an AsciiString, have the same bit, as they have the same bucket in Netty's map.
   */
  private static long bit(CharSequence name) {
    return 1L << AsciiString.hashCode(name); // the shift takes the hash's low six bits
  }

  @Override
  public String get(String name) {
    return get((CharSequence) name);
  }

  @Override
  public String get(CharSequence name) {
    int i = first(name);
    return i < 0 ? null : fields[2 * i + 1].toString();
  }

  @Override
  public String get(CharSequence name, String defaultValue) {
    String v = get(name);
    return v == null ? defaultValue : v;
  }

  /** The first value of {@code name} as it is held (no {@code String} made), or null. */
  public CharSequence getCharSequence(CharSequence name) {
    int i = first(name);
    return i < 0 ? null : fields[2 * i + 1];
  }

  @Override
  public Integer getInt(CharSequence name) {
    return converted(name, CharSequenceValueConverter.INSTANCE::convertToInt);
  }

  @Override
  public int getInt(CharSequence name, int defaultValue) {
    Integer v = getInt(name);
    return v == null ? defaultValue : v;
  }

  @Override
  public Short getShort(CharSequence name) {
    return converted(name, CharSequenceValueConverter.INSTANCE::convertToShort);
  }

  @Override
  public short getShort(CharSequence name, short defaultValue) {
    Short v = getShort(name);
    return v == null ? defaultValue : v;
  }

  /**
   * The first value of {@code name} as an HTTP date (RFC 9110 5.6.7) in milliseconds, or null when
   * there is none or it is not a date. Netty's map lets its parse failure (a checked {@code
   * ParseException}, thrown undeclared) reach the caller; this answers null, as for the numbers.
   */
  @Override
  public Long getTimeMillis(CharSequence name) {
    CharSequence v = getCharSequence(name);
    if (v == null) {
      return null;
    }
    Date date = DateFormatter.parseHttpDate(v);
    return date == null ? null : date.getTime();
  }

  @Override
  public long getTimeMillis(CharSequence name, long defaultValue) {
    Long v = getTimeMillis(name);
    return v == null ? defaultValue : v;
  }

  /** The first value of {@code name} converted, or null when there is none or it does not parse. */
  private <T> T converted(CharSequence name, Function<CharSequence, T> conversion) {
    CharSequence v = getCharSequence(name);
    if (v == null) {
      return null;
    }
    try {
      return conversion.apply(v);
    } catch (RuntimeException notANumber) {
      return null;
    }
  }

  @Override
  public List<String> getAll(String name) {
    return getAll((CharSequence) name);
  }

  @Override
  public List<String> getAll(CharSequence name) {
    int i = first(name);
    if (i < 0) {
      return Collections.emptyList();
    }
    int next = indexOf(name, i + 1);
    if (next < 0) {
      return Collections.singletonList(fields[2 * i + 1].toString());
    }
    List<String> values = new ArrayList<>(4);
    values.add(fields[2 * i + 1].toString());
    for (int j = next; j >= 0; j = indexOf(name, j + 1)) {
      values.add(fields[2 * j + 1].toString());
    }
    return values;
  }

  @Override
  public Iterator<String> valueStringIterator(CharSequence name) {
    Iterator<? extends CharSequence> values = valueCharSequenceIterator(name);
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return values.hasNext();
      }

      @Override
      public String next() {
        return values.next().toString();
      }

      @Override
      public void remove() {
        values.remove();
      }
    };
  }

  @Override
  public Iterator<CharSequence> valueCharSequenceIterator(CharSequence name) {
    Objects.requireNonNull(name, "name");
    return new Iterator<>() {
      private int next = first(name);
      private int last = -1;

      @Override
      public boolean hasNext() {
        return next >= 0;
      }

      @Override
      public CharSequence next() {
        if (next < 0) {
          throw new NoSuchElementException();
        }
        last = next;
        next = indexOf(name, next + 1);
        return fields[2 * last + 1];
      }

      @Override
      public void remove() {
        if (last < 0) {
          throw new IllegalStateException();
        }
        removeAt(last);
        if (next >= 0) {
          next--;
        }
        last = -1;
      }
    };
  }

  @Override
  public boolean contains(String name) {
    return contains((CharSequence) name);
  }

  @Override
  public boolean contains(CharSequence name) {
    return first(name) >= 0;
  }

  @Override
  public boolean contains(String name, String value, boolean ignoreCase) {
    return contains((CharSequence) name, (CharSequence) value, ignoreCase);
  }

  /** Whether a field named {@code name} has exactly {@code value} (its case ignored or not). */
  @Override
  public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
    for (int i = first(name); i >= 0; i = indexOf(name, i + 1)) {
      CharSequence v = fields[2 * i + 1];
      if (ignoreCase
          ? AsciiString.contentEqualsIgnoreCase(v, value)
          : AsciiString.contentEquals(v, value)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a field named {@code name} lists {@code value} among its comma-separated, trimmed
   * elements (RFC 9110 5.6.1), as Netty's {@code containsValue} answers.
   */
  @Override
  public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
    for (int i = first(name); i >= 0; i = indexOf(name, i + 1)) {
      if (listContains(fields[2 * i + 1], value, ignoreCase)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code list}'s comma-separated elements, each trimmed of whitespace and controls, hold
   * {@code expected}: Netty's {@code HttpHeaders.containsCommaSeparatedTrimmed}, whose last element
   * after a final comma is looked at only when it is not empty.
   */
  private static boolean listContains(
      CharSequence list, CharSequence expected, boolean ignoreCase) {
    int length = list.length();
    int start = 0;
    while (true) {
      int comma = AsciiString.indexOf(list, ',', start);
      int end = comma < 0 ? length : comma;
      if ((comma >= 0 || start == 0 || start < length)
          && trimmedEquals(list, start, end, expected, ignoreCase)) {
        return true;
      }
      if (comma < 0) {
        return false;
      }
      start = comma + 1;
    }
  }

  private static boolean trimmedEquals(
      CharSequence s, int from, int to, CharSequence expected, boolean ignoreCase) {
    while (from < to && s.charAt(from) <= ' ') {
      from++;
    }
    while (to > from && s.charAt(to - 1) <= ' ') {
      to--;
    }
    int n = to - from;
    if (n != expected.length()) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char a = s.charAt(from + i);
      char b = expected.charAt(i);
      if (a != b && (!ignoreCase || AsciiString.toLowerCase(a) != AsciiString.toLowerCase(b))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Set<String> names() {
    if (size == 0) {
      return Collections.emptySet();
    }
    Set<String> names = new LinkedHashSet<>(2 * size);
    for (int i = 0; i < size; i++) {
      if (indexOf(fields[2 * i], 0) == i) {
        names.add(fields[2 * i].toString());
      }
    }
    return names;
  }

  @Override
  public List<Entry<String, String>> entries() {
    if (size == 0) {
      return Collections.emptyList();
    }
    List<Entry<String, String>> entries = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      entries.add(new Field<>(fields[2 * i].toString(), fields[2 * i + 1].toString()));
    }
    return entries;
  }

  @Override
  @Deprecated
  public Iterator<Entry<String, String>> iterator() {
    return new Fields<>(f -> f.toString());
  }

  @Override
  public Iterator<Entry<CharSequence, CharSequence>> iteratorCharSequence() {
    return new Fields<>(f -> f);
  }

  // ---- writes

  @Override
  public HttpHeaders add(String name, Object value) {
    return add((CharSequence) name, value);
  }

  @Override
  public HttpHeaders add(CharSequence name, Object value) {
    validateName(name);
    CharSequence v = convert(value);
    validateValue(name, v);
    append(name, v);
    return this;
  }

  @Override
  public HttpHeaders add(String name, Iterable<?> values) {
    return add((CharSequence) name, values);
  }

  @Override
  public HttpHeaders add(CharSequence name, Iterable<?> values) {
    for (Object value : values) {
      add(name, value);
    }
    return this;
  }

  @Override
  public HttpHeaders addInt(CharSequence name, int value) {
    return add(name, (CharSequence) Integer.toString(value));
  }

  @Override
  public HttpHeaders addShort(CharSequence name, short value) {
    return add(name, (CharSequence) Short.toString(value));
  }

  /**
   * Adds a field whose name and value the caller has already checked as this map's validators would
   * (the proxy's HTTP/1.1 decoders, which parse both from the wire).
   */
  void addChecked(CharSequence name, CharSequence value) {
    append(name, value);
  }

  @Override
  public HttpHeaders set(String name, Object value) {
    return set((CharSequence) name, value);
  }

  @Override
  public HttpHeaders set(CharSequence name, Object value) {
    Objects.requireNonNull(value, "value"); // before the name, as Netty's
    validateName(name);
    CharSequence v = convert(value);
    validateValue(name, v);
    removeAll(name);
    append(name, v);
    return this;
  }

  @Override
  public HttpHeaders set(String name, Iterable<?> values) {
    return set((CharSequence) name, values);
  }

  /** Replaces the fields named {@code name} with {@code values}, up to the first null one. */
  @Override
  public HttpHeaders set(CharSequence name, Iterable<?> values) {
    validateName(name);
    Objects.requireNonNull(values, "values");
    removeAll(name);
    for (Object value : values) {
      if (value == null) {
        break;
      }
      CharSequence v = convert(value);
      validateValue(name, v);
      append(name, v);
    }
    return this;
  }

  @Override
  public HttpHeaders setInt(CharSequence name, int value) {
    return set(name, (CharSequence) Integer.toString(value));
  }

  @Override
  public HttpHeaders setShort(CharSequence name, short value) {
    return set(name, (CharSequence) Short.toString(value));
  }

  @Override
  public HttpHeaders remove(String name) {
    return remove((CharSequence) name);
  }

  @Override
  public HttpHeaders remove(CharSequence name) {
    removeAll(Objects.requireNonNull(name, "name"));
    return this;
  }

  @Override
  public HttpHeaders clear() {
    Arrays.fill(fields, 0, 2 * size, null);
    size = 0;
    nameBits = 0;
    return this;
  }

  @Override
  public HttpHeaders copy() {
    FlatHttpHeaders copy = new FlatHttpHeaders(nameValidator, valueValidator, 0);
    copy.fields = size == 0 ? NONE : Arrays.copyOf(fields, 2 * size);
    copy.size = size;
    copy.nameBits = nameBits;
    return copy;
  }

  private void validateName(CharSequence name) {
    nameValidator.validateName(name);
  }

  private void validateValue(CharSequence name, CharSequence value) {
    try {
      valueValidator.validate(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Validation failed for header '" + name + "'", e);
    }
    Objects.requireNonNull(value, "value");
  }

  /** A value as Netty's HTTP headers convert it. */
  private static CharSequence convert(Object value) {
    Objects.requireNonNull(value, "value");
    if (value instanceof CharSequence s) {
      return s;
    }
    if (value instanceof Date d) {
      return DateFormatter.format(d);
    }
    if (value instanceof Calendar c) {
      return DateFormatter.format(c.getTime());
    }
    return value.toString();
  }

  private void append(CharSequence name, CharSequence value) {
    int at = 2 * size;
    if (at == fields.length) {
      fields = Arrays.copyOf(fields, Math.max(2 * INITIAL_FIELDS, 2 * fields.length));
    }
    fields[at] = name;
    fields[at + 1] = value;
    size++;
    nameBits |= bit(name);
  }

  private void removeAll(CharSequence name) {
    for (int i = first(name); i >= 0; i = indexOf(name, i)) {
      removeAt(i);
    }
  }

  private void removeAt(int i) {
    int tail = size - i - 1;
    if (tail > 0) {
      System.arraycopy(fields, 2 * i + 2, fields, 2 * i, 2 * tail);
    }
    size--;
    fields[2 * size] = null;
    fields[2 * size + 1] = null;
  }

  // ---- equality

  /** Whether {@code o} is a map of this kind with the same values, in order, under each name. */
  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    if (!(o instanceof FlatHttpHeaders other) || other.size != size) {
      return false;
    }
    for (int i = 0; i < size; i++) {
      CharSequence name = fields[2 * i];
      if (indexOf(name, 0) != i) {
        continue; // the name's values were compared at its first field
      }
      int a = i;
      int b = other.first(name);
      while (a >= 0 && b >= 0) {
        if (!AsciiString.contentEquals(fields[2 * a + 1], other.fields[2 * b + 1])) {
          return false;
        }
        a = indexOf(name, a + 1);
        b = other.indexOf(name, b + 1);
      }
      if (a != b) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    int h = 0;
    for (int i = 0; i < size; i++) {
      // Order-independent across names, as equals is; a name's values in order.
      h += AsciiString.hashCode(fields[2 * i]) * 31 + AsciiString.hashCode(fields[2 * i + 1]);
    }
    return h;
  }

  /** The fields in order, each entry a copy of its name and value made by {@code as}. */
  private final class Fields<T> implements Iterator<Entry<T, T>> {
    private final Function<CharSequence, T> as;
    private int next;
    private int last = -1;

    Fields(Function<CharSequence, T> as) {
      this.as = as;
    }

    @Override
    public boolean hasNext() {
      return next < size;
    }

    @Override
    public Entry<T, T> next() {
      if (next >= size) {
        throw new NoSuchElementException();
      }
      last = next++;
      return new Field<>(as.apply(fields[2 * last]), as.apply(fields[2 * last + 1]));
    }

    @Override
    public void remove() {
      if (last < 0) {
        throw new IllegalStateException();
      }
      removeAt(last);
      next = last;
      last = -1;
    }
  }

  /** One field as an entry; its value cannot be set (the map is changed through its methods). */
  private record Field<T>(T getKey, T getValue) implements Entry<T, T> {
    @Override
    public T setValue(T value) {
      throw new UnsupportedOperationException("set the field through its header map");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Entry<?, ?> e
          && Objects.equals(getKey, e.getKey())
          && Objects.equals(getValue, e.getValue());
    }

    @Override
    public int hashCode() {
      return Objects.hashCode(getKey) ^ Objects.hashCode(getValue);
    }

    @Override
    public String toString() {
      return getKey + "=" + getValue;
    }
  }

  /** Makes {@link FlatHttpHeaders} for a codec's messages ({@code HttpDecoderConfig}). */
  public static final class Factory implements HttpHeadersFactory {
    private final NameValidator<CharSequence> nameValidator;
    private final ValueValidator<CharSequence> valueValidator;
    private final int room;

    private Factory(
        NameValidator<CharSequence> nameValidator,
        ValueValidator<CharSequence> valueValidator,
        int room) {
      this.nameValidator = Objects.requireNonNull(nameValidator, "nameValidator");
      this.valueValidator = Objects.requireNonNull(valueValidator, "valueValidator");
      if (room < 0) {
        throw new IllegalArgumentException("room " + room + " < 0");
      }
      this.room = room;
    }

    /**
     * A factory like this one whose new maps have room for {@code fields} fields before they grow
     * (0: no array until the first field, for maps that are almost always empty, as trailers).
     */
    public Factory withRoom(int fields) {
      return new Factory(nameValidator, valueValidator, fields);
    }

    @Override
    public FlatHttpHeaders newHeaders() {
      return new FlatHttpHeaders(nameValidator, valueValidator, room);
    }

    @Override
    public FlatHttpHeaders newEmptyHeaders() {
      return new FlatHttpHeaders(nameValidator, valueValidator, 0);
    }
  }
}

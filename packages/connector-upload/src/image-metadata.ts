/** Width and height read from an image's first bytes (PNG, GIF, JPEG, WebP), without decoding it. */
export function readImageSize(
  head: Uint8Array,
  mimeType: string,
): { width: number; height: number } | undefined {
  const view = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  try {
    if (mimeType === 'image/png' && view.byteLength >= 24) {
      return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
    }
    if (mimeType === 'image/gif' && view.byteLength >= 10) {
      return { width: view.readUInt16LE(6), height: view.readUInt16LE(8) };
    }
    if (mimeType === 'image/webp' && view.byteLength >= 30) {
      const chunk = view.toString('latin1', 12, 16);
      if (chunk === 'VP8X') return { width: 1 + view.readUIntLE(24, 3), height: 1 + view.readUIntLE(27, 3) };
      if (chunk === 'VP8 ')
        return { width: view.readUInt16LE(26) & 0x3fff, height: view.readUInt16LE(28) & 0x3fff };
      if (chunk === 'VP8L') {
        const bits = view.readUInt32LE(21);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
    }
    if (mimeType === 'image/jpeg') {
      let offset = 2;
      while (offset + 9 < view.byteLength) {
        if (view[offset] !== 0xff) return undefined;
        const marker = view[offset + 1] as number;
        const length = view.readUInt16BE(offset + 2);
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          return { height: view.readUInt16BE(offset + 5), width: view.readUInt16BE(offset + 7) };
        }
        offset += 2 + length;
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

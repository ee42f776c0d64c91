/*
 * emogate Emotet rules: binary-padded documents, March 2023 (a small Word
 * document with hundreds of MB of zeros appended to get past size limits).
 * No strings: the rule only reads a few integers, so it costs nothing on
 * the huge inputs it is about. Written for emogate; no third-party text.
 */

rule Emotet_Padded_OLE2_Document_2023 : emotet padding
{
    meta:
        description = "OLE2 document followed by zero bytes its FAT cannot address: over 32 MB, or cut short by emogate's limits (a zipped 500 MB document stops at the ratio limit) (Emotet binary padding, March 2023)"
        reference = "https://www.trendmicro.com/en_us/research/23/c/emotet-returns-now-adopts-binary-padding-for-evasion.html"
        date = "2026-11-25"
        verdict = "suspicious"
    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1
        and (filesize > 32MB or truncated)
        // Sector shift is 9 (512-byte) or 12 (4096-byte) sectors. csectFat
        // FAT sectors of 2^(shift-2) entries each address at most
        // (csectFat + 1) * 2^(shift-2) * 2^shift bytes (one spare for the
        // header); a real document ends within that.
        and (uint16(0x1E) == 9 or uint16(0x1E) == 12)
        and filesize > (uint32(0x2C) + 1) * (1 << (uint16(0x1E) - 2)) * (1 << uint16(0x1E)) + 65536
        and uint32(filesize - 4) == 0 and uint32(filesize - 4096) == 0
        and uint32(filesize - 65536) == 0
        and uint32((filesize + (uint32(0x2C) + 1) * (1 << (uint16(0x1E) - 2)) * (1 << uint16(0x1E))) \ 2) == 0
}

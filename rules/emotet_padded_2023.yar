/*
 * emogate Emotet rules: binary-padded documents, March 2023 (a small Word
 * document with hundreds of MB of zeros appended to get past size limits).
 * No strings: the rule only reads a few integers, so it costs nothing on
 * the huge inputs it is about. Written for emogate; no third-party text.
 */

rule Emotet_Padded_OLE2_Document_2023 : emotet padding
{
    meta:
        description = "OLE2 document followed by tens of MB of zero bytes that its FAT cannot address (Emotet binary padding, March 2023)"
        reference = "https://www.trendmicro.com/en_us/research/23/c/emotet-returns-now-adopts-binary-padding-for-evasion.html"
        date = "2026-11-25"
        verdict = "suspicious"
    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1
        and filesize > 32MB
        // Sector shift is 9 (512-byte) or 12 (4096-byte) sectors; the FAT
        // has csectFat sectors of 2^(shift-2) entries, each one sector.
        and (uint16(0x1E) == 9 or uint16(0x1E) == 12)
        and filesize > 4 * (uint32(0x2C) + 1) * (1 << (uint16(0x1E) - 2)) * (1 << uint16(0x1E))
        and uint32(filesize - 4) == 0 and uint32(filesize - 4096) == 0
        and uint32(filesize - 1048576) == 0 and uint32(filesize - 16777216) == 0
        and uint32(filesize \ 2) == 0
}

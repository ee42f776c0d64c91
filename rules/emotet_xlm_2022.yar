/*
 * emogate Emotet rules: Excel 4.0 (XLM) droppers of the 2022 campaigns.
 * Written for emogate from public descriptions of the campaigns (see each
 * rule's reference); no third-party rule text was used.
 *
 * Two views of the same workbook are scanned: the raw BIFF8 file (formula
 * string literals are visible, function names are not) and the
 * "xlm_formulas" text object emogate's office extractor derives from it
 * (function names such as CALL( and EXEC( with their string arguments).
 */

rule Emotet_XLM_Download_And_Register_2022 : emotet xlm
{
    meta:
        description = "Excel 4.0 formulas fetch a file with urlmon URLDownloadToFile through CALL/REGISTER and start it with regsvr32 or rundll32 (Emotet XLM dropper, 2022)"
        reference = "https://www.fortinet.com/blog/threat-research/Trends-in-the-recent-emotet-maldoc-outbreak"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $dl = "URLDownloadToFile" ascii wide nocase
        $api1 = "CALL(" ascii nocase
        $api2 = "REGISTER(" ascii nocase
        $exec = "EXEC(" ascii nocase
        $run1 = "regsvr32" ascii wide nocase
        $run2 = "rundll32" ascii wide nocase
    condition:
        $dl and any of ($api*) and $exec and any of ($run*)
}

rule Emotet_XLM_Fallback_URL_Chain_2022 : emotet xlm
{
    meta:
        description = "Excel 4.0 formulas try several download URLs in turn (CALL of URLDownloadToFile with three or more http(s) URLs), the Emotet fallback pattern of 2022"
        reference = "https://www.fortinet.com/blog/threat-research/Trends-in-the-recent-emotet-maldoc-outbreak"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $dl = "URLDownloadToFile" ascii wide nocase
        $api = "CALL(" ascii nocase
        $u1 = "http://" ascii nocase
        $u2 = "https://" ascii nocase
        $rel = "..\\" ascii
    condition:
        $dl and $api and $rel and (#u1 + #u2) >= 3
}

rule Emotet_XLS_VeryHidden_Macrosheet_Downloader_2022 : emotet xlm
{
    meta:
        description = "BIFF8 workbook with a very hidden Excel 4.0 macro sheet whose formula strings name URLDownloadToFile/urlmon and regsvr32/rundll32 (Emotet XLM dropper, 2022)"
        reference = "https://www.fortinet.com/blog/threat-research/Trends-in-the-recent-emotet-maldoc-outbreak"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        // BoundSheet8 record (MS-XLS 2.4.28): type 0x0085, then lbPlyPos,
        // hsState = 2 (very hidden), dt = 1 (macro sheet).
        $vh_macrosheet = { 85 00 ?? 00 ?? ?? ?? ?? 02 01 }
        $dl = "URLDownloadToFile" ascii wide nocase
        $urlmon = "urlmon" ascii wide nocase
        $run1 = "regsvr32" ascii wide nocase
        $run2 = "rundll32" ascii wide nocase
    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1
        and $vh_macrosheet and ($dl or $urlmon) and any of ($run*)
}

rule Emotet_Numeric_IP_URL_Launcher_2022 : emotet xlm
{
    meta:
        description = "URL whose host is a hexadecimal or octal IPv4 number (e.g. http://0xc12a24f5/), optionally caret-obfuscated, launched through mshta/cmd/EXEC (Emotet Excel 4.0 droppers, January 2022)"
        reference = "https://www.trendmicro.com/en_us/research/22/a/emotet-spam-abuses-unconventional-ip-address-formats-spread-malware.html"
        date = "2026-11-25"
        verdict = "malicious"
    strings:
        $hex1 = /:\/\/0x[0-9a-fA-F^]{8,24}[\/:"]/ ascii
        $hex2 = /\/\^\/0x[0-9a-fA-F^]{8,24}[\/:"]/ ascii
        $oct1 = /:\/\/0[0-7^]{1,6}\.0[0-7^]{1,6}\.0[0-7^]{1,6}\.0[0-7^]{1,6}[\/:"]/ ascii
        $oct2 = /\/\^\/0[0-7^]{1,6}\.0[0-7^]{1,6}\.0[0-7^]{1,6}\.0[0-7^]{1,6}[\/:"]/ ascii
        $l1 = "mshta" ascii wide nocase
        $l2 = "^s^h^t^a" ascii nocase
        $l3 = "EXEC(" ascii nocase
        $l4 = "cmd /c" ascii wide nocase
    condition:
        any of ($hex*, $oct*) and any of ($l*)
}

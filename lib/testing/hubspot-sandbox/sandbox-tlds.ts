/**
 * A small list of top-level domains that exist. HubSpot refuses an email whose TLD does not
 * (INVALID_EMAIL), so reserved names such as `.test`, `.local`, `.invalid` or `.example` fail
 * here too: a loose "x@y.z" check would let them through.
 */
export const KNOWN_TLDS: ReadonlySet<string> = new Set(
  (
    'com org net edu gov mil int info biz name pro mobi aero coop museum jobs travel tel asia cat ' +
    'io co ai app dev me tv cc ws xyz online site tech store shop cloud email company agency ' +
    'digital solutions services systems software network group global world today live news ' +
    'blog media studio design art academy education health care finance capital consulting ' +
    'partners ventures works tools page one top club space website fun life inc llc ltd ' +
    'ac ad ae ag al am ar at au az ba be bg bh bo br by ca ch cl cn cr cu cy cz de dk do dz ec ee ' +
    'eg es eu fi fj fr ge gg gh gr gt hk hn hr hu id ie il im in iq ir is it je jo jp ke kg kh kr ' +
    'kw kz la lb li lk lt lu lv ly ma mc md mk mn mt mu mx my na ng ni nl no np nz om pa pe ph pk ' +
    'pl pr ps pt py qa ro rs ru rw sa se sg si sk sn su sv th tn tr tw tz ua ug uk us uy uz ve vn ' +
    'za zm zw'
  ).split(' '),
);

/** True when the part after the last dot of `domain` is a TLD that exists. */
export function hasKnownTld(domain: string): boolean {
  const dot = domain.lastIndexOf('.');
  return dot >= 0 && KNOWN_TLDS.has(domain.slice(dot + 1).toLowerCase());
}

// pvc://CLAIM/PATH, the URI form of "a path on a PersistentVolumeClaim" the resources share: a
// TrainingJob writes its artifact there, a ModelVersion serves from there.

export interface PvcLocation {
  claim: string;
  /** '' or a path starting with '/'. */
  path: string;
}

/** The claim and path of a pvc:// URI; undefined for any other URI. */
export function parsePvcUri(uri: string): PvcLocation | undefined {
  const match = /^pvc:\/\/([^/]+)(\/.*)?$/.exec(uri);
  return match ? { claim: match[1]!, path: match[2] ?? '' } : undefined;
}

export function pvcUri({ claim, path }: PvcLocation): string {
  return `pvc://${claim}${path}`;
}

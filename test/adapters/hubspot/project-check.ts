/**
 * What HubSpot's own project parsing library (`@hubspot/project-parsing-lib`, the one `hs project
 * upload` runs) can check of a project without a HubSpot account: hsproject.json, the platform
 * version, every *-hsmeta.json parsed into its intermediate representation (JSON, top-level
 * fields, the app every feature depends on, unique uids), each uid's form, each component in the
 * directory its type requires, and no more components of a type than the platform allows.
 *
 * The library's schema validation of each component's `config` is not here: `translate` fetches
 * those JSON schemas from HubSpot's API (`project-components-external/project-schemas/v3/<platform
 * version>`) with the account of a HubSpot CLI config file, so it cannot run offline.
 */
import { dirname, join } from 'node:path';
import { Components } from '@hubspot/project-parsing-lib/constants';
import { getProjectMetadata, isKnownPlatformVersion, parseProjectConfig } from '@hubspot/project-parsing-lib/projects';
import { mapToUserFacingType } from '@hubspot/project-parsing-lib/transform';
import { validateUid } from '@hubspot/project-parsing-lib/uid';
// The steps `translate` runs before it fetches the schemas; the package exports them only inside
// `translate` (whose parse errors then wait for the schema validation), so they are imported from
// its files directly.
import { loadHsMetaFiles } from '../../../node_modules/@hubspot/project-parsing-lib/src/lib/files.js';
import {
  getIntermediateRepresentation,
  getParsingErrors,
  transform,
} from '../../../node_modules/@hubspot/project-parsing-lib/src/lib/transform.js';

/** The problems HubSpot's library finds in the project at `projectDir`; empty when it finds none. */
export async function hubspotProjectProblems(projectDir: string): Promise<string[]> {
  let config: ReturnType<typeof parseProjectConfig>;
  try {
    config = parseProjectConfig(projectDir);
  } catch (err) {
    return [`hsproject.json: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  if (!isKnownPlatformVersion(config.platformVersion))
    problems.push(`hsproject.json: unknown platformVersion ${config.platformVersion}`);
  const srcDir = join(projectDir, config.srcDir);
  const context = { projectSourceDir: srcDir, platformVersion: config.platformVersion };
  const { results } = await loadHsMetaFiles(context);
  if (results.length === 0) return [...problems, `no *-hsmeta.json file under ${srcDir}`];
  const transformations = transform(results, context);
  for (const failed of getParsingErrors(transformations))
    for (const e of failed.errors) problems.push(`${failed.file}: ${e}`);
  let nodes;
  try {
    nodes = getIntermediateRepresentation(transformations, undefined, true).intermediateNodesIndexedByUid;
  } catch (err) {
    return [...problems, (err as Error).message]; // a duplicate uid
  }
  for (const node of Object.values(nodes)) {
    const where = node.metaFilePath;
    const uidProblem = validateUid(node.uid);
    if (uidProblem) problems.push(`${where}: ${uidProblem}`);
    problems.push(...placementProblems(node.componentType, where));
  }
  const metadata = await getProjectMetadata(srcDir);
  for (const [type, m] of Object.entries(metadata.components))
    if (m.count > m.maxCount) problems.push(`${m.count} components of type ${type}, at most ${m.maxCount} allowed`);
  return problems;
}

/** The directory a component of this type must sit in (the check the library makes before its schema validation). */
function placementProblems(componentType: string, metaFilePath: string): string[] {
  const type = mapToUserFacingType(componentType);
  const component = Components[type];
  if (!component) return [`${metaFilePath}: unknown component type ${componentType}`];
  const parent = component.parentComponent ? Components[component.parentComponent].dir : '';
  const expected = join(parent, component.dir);
  return dirname(metaFilePath) === expected ? [] : [`${metaFilePath}: a ${type} component belongs in ${expected}/`];
}

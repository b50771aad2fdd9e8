import { CfnElement, Names, Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';

const GROUP = Symbol.for('iamwatch.Group');

/**
 * A construct that groups the resources of one concern (one trust zone) without taking part in
 * their logical ids: inside a `GroupedStack`, a resource at `Intake/Bus` gets the logical id it
 * would get at `Bus`. The resources of a deployed stack keep their ids when they move into a
 * group, so CloudFormation updates them instead of replacing them (a replaced queue loses its
 * messages, a replaced bus its rules). The ids of the children must therefore be unique across
 * the groups of a stack, as if they were siblings.
 */
export class Group extends Construct {
  public static isGroup(x: unknown): boolean {
    return typeof x === 'object' && x !== null && GROUP in x;
  }

  constructor(scope: Construct, id: string) {
    super(scope, id);
    Object.defineProperty(this, GROUP, { value: true });
  }
}

/**
 * CDK's unique id of a construct path (`Names.nodeUniqueId`), computed on a scratch tree so that
 * the very same algorithm applies to a path with the groups left out.
 */
function uniqueIdOfPath(ids: string[]): string {
  let node: Construct = new Construct(undefined as unknown as Construct, '');
  for (const id of ids) node = new Construct(node, id);
  return Names.nodeUniqueId(node.node);
}

/** Ids of a construct's path from `after` (excluded) down to it, groups left out. */
function idsWithoutGroups(c: IConstruct, after: IConstruct | undefined): string[] {
  const scopes = c.node.scopes;
  return scopes
    .slice(after === undefined ? 1 : scopes.indexOf(after) + 1)
    .filter((s) => !Group.isGroup(s))
    .map((s) => s.node.id);
}

/**
 * A stack whose logical ids ignore `Group`s (Stack.allocateLogicalId is CDK's hook for naming
 * schemes). Some constructs name a child after another construct's unique id, which holds its
 * path (`SqsEventSource:<queue's unique id>` for an event source mapping): such a component is
 * rewritten to the unique id without groups too.
 */
export class GroupedStack extends Stack {
  protected allocateLogicalId(element: CfnElement): string {
    const groupedIds = new Map<string, string>();
    for (const c of this.node.findAll()) {
      if (!c.node.scopes.some((s) => Group.isGroup(s))) continue;
      groupedIds.set(Names.nodeUniqueId(c.node), uniqueIdOfPath(idsWithoutGroups(c, undefined)));
    }
    const ids = idsWithoutGroups(element, this).map((id) =>
      id.replace(/(?<=:)[A-Za-z0-9]+$/, (uid) => groupedIds.get(uid) ?? uid),
    );
    return uniqueIdOfPath(ids);
  }
}

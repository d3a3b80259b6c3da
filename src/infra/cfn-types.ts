/** Just enough CloudFormation template typing to keep the Fanout template builder honest. */

/** A CloudFormation value: literals, lists, maps and intrinsic functions (which are maps too). */
export type CfnValue = string | number | boolean | readonly CfnValue[] | { readonly [key: string]: CfnValue };

/** One template parameter. */
export interface CfnParameter {
  Type: 'String' | 'Number' | 'CommaDelimitedList';
  Description: string;
  Default: string | number;
  AllowedValues?: readonly (string | number)[];
  MinValue?: number;
  MaxValue?: number;
  AllowedPattern?: string;
}

/** One template resource. */
export interface CfnResource<C extends string = string> {
  Type: string;
  Condition?: C;
  DeletionPolicy?: 'Retain' | 'Delete';
  UpdateReplacePolicy?: 'Retain' | 'Delete';
  Properties: Record<string, CfnValue>;
}

/** One template output. */
export interface CfnOutput<C extends string = string> {
  Description: string;
  Value: CfnValue;
  Condition?: C;
}

/** A whole CloudFormation template, typed by its parameter, condition, resource and output names. */
export interface CfnTemplate<P extends string, C extends string, R extends string, O extends string> {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Parameters: Record<P, CfnParameter>;
  Conditions: Record<C, CfnValue>;
  Resources: Record<R, CfnResource<C>>;
  Outputs: Record<O, CfnOutput<C>>;
}

import { Type, type TSchema } from '@sinclair/typebox';

/** `{"success": true, "data": …}`: the seed's success envelope. */
export function Success<T extends TSchema>(data: T) {
  return Type.Object({ success: Type.Literal(true), data });
}

/** `{"success": false, "error": {message, code, details?}}`: the seed's error envelope plus a stable code. */
export const ErrorEnvelope = Type.Object(
  {
    success: Type.Literal(false),
    error: Type.Object({
      message: Type.String(),
      code: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      requestId: Type.Optional(Type.String()),
    }),
  },
  { $id: 'ErrorEnvelope' },
);

export const ErrorResponses = {
  400: Type.Ref('ErrorEnvelope'),
  401: Type.Ref('ErrorEnvelope'),
  403: Type.Ref('ErrorEnvelope'),
  404: Type.Ref('ErrorEnvelope'),
  409: Type.Ref('ErrorEnvelope'),
  413: Type.Ref('ErrorEnvelope'),
  415: Type.Ref('ErrorEnvelope'),
  429: Type.Ref('ErrorEnvelope'),
  500: Type.Ref('ErrorEnvelope'),
  502: Type.Ref('ErrorEnvelope'),
  503: Type.Ref('ErrorEnvelope'),
};

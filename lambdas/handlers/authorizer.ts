// Placeholder while the handler is being written (replaced in the same session).
export const handler = async (): Promise<never> => {
  throw new Error('authorizer handler not implemented yet');
};
